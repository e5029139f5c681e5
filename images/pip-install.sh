#!/bin/sh
# runner-pip-install REQUIREMENTS [WHEELHOUSE]
# Installs into /opt/venv either offline from a wheelhouse (when it holds wheels) or from the
# network; a CA bundle in /opt/build/ca/ca.crt is how pip trusts a TLS-inspecting proxy.
set -eu
req="$1"
wheels="${2:-/opt/build/wheels}"
if [ ! -s "$req" ] || ! grep -qvE '^[[:space:]]*(#|$)' "$req"; then
  echo "runner-pip-install: nothing to install from $req"
  exit 0
fi
if [ -s /opt/build/ca/ca.crt ]; then
  export PIP_CERT=/opt/build/ca/ca.crt REQUESTS_CA_BUNDLE=/opt/build/ca/ca.crt
fi
if ls "$wheels"/*.whl >/dev/null 2>&1; then
  exec pip install --no-index --find-links "$wheels" -r "$req"
fi
exec pip install -r "$req"
