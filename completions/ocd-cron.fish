complete -c ocd-cron -s j -l job -d 'The job to trigger: rewards (POST /api/training/calculate-pending), outcomes (POST /api/training/outcomes), or all (rewards, then outcomes even if rewards failed; the exit status is the first failure\'s)' -r -f -a "rewards\t'Reward calculation: POST /api/training/calculate-pending'
outcomes\t'Outcome tracking: POST /api/training/outcomes'
all\t'Both, rewards first: outcome tracking reads what reward calculation wrote in the same hour, as in the recommended :00/:15 schedule'"
complete -c ocd-cron -l limit -d 'Batch size, sent as {"limit": N}. Without it the body is {} and the server uses its own default' -r
complete -c ocd-cron -l base-url -d 'Base URL of the OCD app, path prefix included. Overrides API_BASE_URL' -r
complete -c ocd-cron -l env-file -d 'Read only this env file, instead of the app\'s env files. It must exist and be a regular file' -r -F
complete -c ocd-cron -l app-dir -d 'The OCD app\'s directory: read its env files as `next start` does (.env.production.local, .env.local, .env.production, .env; the first that sets a name wins, $VAR expanded) from there instead of from the working directory. Overrides OCD_CRON_APP_DIR' -r -F
complete -c ocd-cron -l timeout -d 'Deadline for the whole run, retries and waits included (500ms, 30s, 2m, 1h, or bare seconds; at most 24h)' -r
complete -c ocd-cron -l connect-timeout -d 'Deadline for establishing each TCP connection (at most 24h)' -r
complete -c ocd-cron -l retries -d 'Extra attempts for retryable failures (connection errors, 408, 429, 500, 502, 503, 504), all within --timeout' -r
complete -c ocd-cron -l max-item-errors -d 'Succeed even if the server reports up to N decisions that failed inside an otherwise completed run' -r
complete -c ocd-cron -l lock-file -d 'Take an exclusive lock on this file (created 0600) before sending anything; if another run holds it, exit 75 at once. Released when the process ends, however it ends' -r -F
complete -c ocd-cron -l ca-cert -d 'Trust exactly the CA certificates in this PEM bundle for https, instead of the system trust store (for internal CAs). Overrides OCD_CRON_CA_CERT' -r -F
complete -c ocd-cron -l output -d 'Print the result on stdout as one JSON object per job (also for failures and configuration errors); logs stay on stderr' -r -f -a "text\t'Nothing on stdout for a job run (the log line on stderr says it all); the count for --pending; the requests and pings for --dry-run'
json\t'One JSON object per job, on one line'"
complete -c ocd-cron -l max-pending -d 'With --pending: exit 1 when more than N decisions are pending (the count is printed all the same)' -r
complete -c ocd-cron -l ping-url -d 'Report the run to a monitor: healthchecks.io, Cronitor, Sentry Crons, Uptime Kuma, Better Stack or Dead Man\'s Snitch, recognised from the URL the monitor\'s page shows (or named, as in cronitor+https://host/p/KEY/rewards). Repeat it for several monitors; all are pinged at once, each ping within --ping-timeout. A failed ping is only a warning. Overrides OCD_CRON_PING_URL (a list separated by spaces, commas or newlines)' -r
complete -c ocd-cron -l ping-timeout -d 'Time limit for the pings before the jobs, and again for those after them (all monitors at once, 3 attempts each); a ping not accepted within it is only a warning [default: 10s; at most 1m]. Overrides OCD_CRON_PING_TIMEOUT' -r
complete -c ocd-cron -l metrics-file -d 'Write Prometheus metrics (textfile-collector format) to this file after the run, atomically, mode 0644. Its directory must exist. Overrides OCD_CRON_METRICS_FILE' -r -F
complete -c ocd-cron -l jitter -d 'Wait a random delay of up to DURATION before the run (after the checks, before the lock, the pings and the requests), so that hosts on one schedule do not hit the app in the same second. Not counted in --timeout; not for --pending. Overrides OCD_CRON_JITTER' -r
complete -c ocd-cron -l jitter-seed -d 'With --jitter: the same delay on every run for this seed and job, so each host keeps its offset (--jitter-seed "$(hostname)", or %H in a systemd unit). Overrides OCD_CRON_JITTER_SEED' -r
complete -c ocd-cron -l slot-period -d 'Send a slot key as the Idempotency-Key instead of a new UUID: the job and the scheduled time (OCD_CRON_SCHEDULED_TIME, else the start) truncated to PERIOD, the schedule\'s interval (rewards@2026-12-03T14:00:00Z with 1h). Every runner of a slot sends the same key; the next slot another. Overrides OCD_CRON_SLOT_PERIOD' -r
complete -c ocd-cron -l log-format -d 'Log lines on stderr as text, or as one JSON object per line (time, level, job, message, and the run\'s request id, attempt, HTTP status, duration, exit status, trace id) for log shippers. Overrides OCD_CRON_LOG_FORMAT' -r -f -a "text\t'Lines for people: a timestamp and level, or the journal\'s priority'
json\t'One JSON object per line, for log shippers'"
complete -c ocd-cron -l dry-run -d 'Resolve and check the configuration (the --lock-file is opened, not locked), print the requests and monitor pings a run would send (the key and the secret parts of monitor URLs masked), send nothing, exit 0 or 78'
complete -c ocd-cron -l pending -d 'Ask how many decisions are pending (GET on the job\'s endpoint) instead of running the job, and print the count. The OCD deployment\'s GET route must accept the key'
complete -c ocd-cron -s q -l quiet -d 'Only warnings and errors: a run that succeeds prints nothing, retries included, unless a warning asks for a fix (a key file others can read, a base URL that looks wrong, a failed ping), so cron mails only failures. RUST_LOG=error silences the warnings too'
complete -c ocd-cron -s v -l verbose -d 'Debug detail: URL, timings, headers sent (never the key)'
complete -c ocd-cron -s h -l help -d 'Print help (see more with \'--help\')'
complete -c ocd-cron -s V -l version -d 'Print version'
