#!/usr/bin/env bash
# Installs the real peers the tests start on loopback (Debian packages), only those missing:
#   promtool (prometheus)  - `promtool check metrics` on the exposition
#   haproxy                - load balancer instances for lb_sync tests
#   redis-server           - storage probe and fleet mode tests
#   openssl                - odd TLS servers and test certificates
#   docker-compose         - `docker-compose config` validates docker-compose.yml (no engine needed)
#   prometheus-alertmanager - a real Alertmanager routing alerts to the daemon (binary `prometheus-alertmanager`)
#   chromium               - Debian's Chromium for the console's browser test (driven by playwright-core; never a downloaded browser)
#   prometheus-blackbox-exporter - the real exporter, for `tocsin import blackbox`'s same-verdict test
#   xmllint (libxml2-utils) - the status feeds are well-formed XML (strict parser, XPath counts of required elements)
#   python3-feedparser     - a real feed reader's parser reads the Atom and RSS feeds (Debian's /usr/bin/python3)
# and what the tests need besides:
#   g++, make, python3     - node-gyp builds better-sqlite3 from source (`npm ci`, and the install test's `npm install -g`)
#   ps, pgrep (procps)     - the demo test checks that every process the demo started is gone
#   systemd-analyze (systemd) - `systemd-analyze verify` on contrib/systemd/tocsin.service
set -euo pipefail

declare -A need=([promtool]=prometheus [haproxy]=haproxy [redis-server]=redis-server [openssl]=openssl
  [docker-compose]=docker-compose [prometheus-alertmanager]=prometheus-alertmanager [chromium]=chromium [prometheus-blackbox-exporter]=prometheus-blackbox-exporter [xmllint]=libxml2-utils
  [g++]=g++ [make]=make [python3]=python3 [ps]=procps [pgrep]=procps [systemd-analyze]=systemd)
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
done
# A Python module, not a command: Debian's interpreter must import it (another python3 may come first in PATH).
/usr/bin/python3 -c 'import feedparser' >/dev/null 2>&1 || missing+=(python3-feedparser)
if [ ${#missing[@]} -eq 0 ]; then
  echo "test dependencies present"
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
