// ocd-cron under PM2: the OCD app's two background jobs as one-shot apps that
// PM2 starts at :00 (rewards) and :15 (outcomes), in place of the OCD docs'
// long-running scheduler (`pm2 start cron.ts --interpreter tsx --name ocd-cron`).
//
// Copy this file into the OCD app's directory, next to its .env files, then:
//   pm2 delete ocd-cron                # the old scheduler, if it runs
//   pm2 start ecosystem.config.js      # runs each job once now, then on schedule
//   pm2 save                           # with `pm2 startup`: kept across reboots
//
// - The binary runs directly (interpreter "none"): no Node, no tsx.
// - autorestart false: a run that ends, well or badly, stays stopped until its
//   next cron time. PM2 never loops on a failing job; it keeps the exit status
//   (`pm2 jlist`: pm2_env.exit_code; `pm2 logs`: "exited with code [69]") and
//   `pm2 ls` shows the app as stopped between runs.
// - The configuration is the app's own env files (INTERNAL_API_KEY,
//   API_BASE_URL), read from this directory as `next start` reads them
//   (.env.production.local, .env.local, .env.production, .env; $VAR
//   expanded), so the key sent is the one the app checks; ocd-cron reads only
//   its own variables from them.
// - --timeout=5m ends every run long before the next cron time (a cron restart
//   of a run still going would interrupt it: exit 130).
// - The binary: $OCD_CRON if set when `pm2 start` reads this file, else the
//   Debian package's /usr/bin/ocd-cron, else /usr/local/bin/ocd-cron (release
//   archive).
// - Logs: ~/.pm2/logs/ocd-cron-rewards-error.log (ocd-cron logs to stderr).
//   PM2 closes an app's log files as soon as it exits and can drop a line
//   written in its last milliseconds, so now and then a run's line is missing
//   there; the exit status PM2 records is always right. For a record of every
//   run, add --ping-url or --metrics-file (see ocd-cron(1)).
const fs = require("fs");

const ocdCron =
  process.env.OCD_CRON ||
  ["/usr/bin/ocd-cron", "/usr/local/bin/ocd-cron"].find((p) => fs.existsSync(p)) ||
  "/usr/bin/ocd-cron";
const appDir = __dirname;

module.exports = {
  apps: [
    {
      name: "ocd-cron-rewards",
      script: ocdCron,
      args: ["--job=rewards", `--app-dir=${appDir}`, "--timeout=5m"],
      interpreter: "none",
      cwd: __dirname,
      cron_restart: "0 * * * *",
      autorestart: false,
    },
    {
      name: "ocd-cron-outcomes",
      script: ocdCron,
      args: ["--job=outcomes", `--app-dir=${appDir}`, "--timeout=5m"],
      interpreter: "none",
      cwd: __dirname,
      cron_restart: "15 * * * *",
      autorestart: false,
    },
  ],
};
