#!/bin/sh
# Prints .env.example with every empty secret filled in with fresh random values:
#   sh deploy/generate-env.sh > .env
# Passwords, API keys and the CustomerId secret are 32 random bytes in hex (safe inside a URL);
# the payload key is 32 random bytes in base64. Values already set in .env.example are kept.
set -eu
example="$(dirname "$0")/../.env.example"
hex() { od -An -v -tx1 -N32 /dev/urandom | tr -d ' \n'; }
while IFS= read -r line || [ -n "$line" ]; do
  case "$line" in
  API_KEYS=) echo "API_KEYS=$(hex):admin:ops-1" ;;
  PAYLOAD_ENCRYPTION_KEYS=) echo "PAYLOAD_ENCRYPTION_KEYS=k1:$(head -c 32 /dev/urandom | base64)" ;;
  [A-Z]*=) echo "$line$(hex)" ;;
  *) echo "$line" ;;
  esac
done <"$example"
