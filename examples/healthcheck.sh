#!/bin/sh
# Nagios / Icinga / Sensu style health check for the OCD training pipeline,
# built on `ocd-cron --pending --output json`: how many decisions wait for the
# two jobs. A backlog that keeps growing means the jobs are not running.
#
#   healthcheck.sh [WARN] [CRIT] [extra ocd-cron options...]
#     WARN  pending decisions (either job) for WARNING  [default: 500]
#     CRIT  pending decisions (either job) for CRITICAL [default: 2000]
#
# Exit status as the plugin guidelines say: 0 OK, 1 WARNING, 2 CRITICAL,
# 3 UNKNOWN. Configuration comes from the usual environment / .env. The OCD
# deployment's GET routes must accept the key (see the API contract).
#
# Add `--dry-run` as an extra option to check the configuration only.
#
# The binary is $OCD_CRON if set, else `ocd-cron` from PATH: monitoring agents
# often run checks with a short PATH, so set it to the full path there
# (OCD_CRON=/usr/bin/ocd-cron for the Debian package, /usr/local/bin/ocd-cron
# for the release archive). Not finding it is UNKNOWN: the check could not run.

warn=${1:-500}
crit=${2:-2000}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift

ocd_cron=${OCD_CRON:-ocd-cron}
case $ocd_cron in
  */*) [ -f "$ocd_cron" ] && [ -x "$ocd_cron" ] ;;
  *) command -v "$ocd_cron" >/dev/null 2>&1 ;;
esac || {
  echo "UNKNOWN - $ocd_cron not found or not executable; install ocd-cron or set OCD_CRON to its path"
  exit 3
}

out=$("$ocd_cron" --job=all --pending --output=json -q "$@")
status=$?

case $status in
  0) ;;
  126|127) echo "UNKNOWN - could not run $ocd_cron (exit $status)"; exit 3 ;;
  77) echo "UNKNOWN - the OCD API refused the key for the pending count (exit 77)"; exit 3 ;;
  78|64) echo "UNKNOWN - ocd-cron configuration error (exit $status)"; exit 3 ;;
  *) echo "CRITICAL - ocd-cron could not read the pending counts (exit $status)"; exit 2 ;;
esac

worst=0
perf=""
summary=""
while IFS= read -r line; do
  job=$(printf '%s' "$line" | sed -n 's/.*"job":"\([a-z]*\)".*/\1/p')
  pending=$(printf '%s' "$line" | sed -n 's/.*"pending":\([0-9]*\).*/\1/p')
  [ -n "$job" ] || continue
  if [ -z "$pending" ]; then
    # A --dry-run: the configuration is valid, nothing was asked.
    summary="$summary $job:config-ok"
    continue
  fi
  summary="$summary $job=$pending"
  perf="$perf ${job}_pending=$pending;$warn;$crit;0"
  [ "$pending" -gt "$worst" ] && worst=$pending
done <<END
$out
END

if [ "$worst" -gt "$crit" ]; then
  echo "CRITICAL - decisions pending:$summary |$perf"; exit 2
elif [ "$worst" -gt "$warn" ]; then
  echo "WARNING - decisions pending:$summary |$perf"; exit 1
fi
echo "OK - decisions pending:$summary |$perf"
exit 0
