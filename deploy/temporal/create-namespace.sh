#!/bin/sh
# One shot (temporalio/admin-tools, or any machine with the `temporal` CLI): wait for the
# frontend, then make sure the namespace exists. Bounded: it gives up after ATTEMPTS tries.
set -eu
namespace="${NAMESPACE:-default}"
address="${TEMPORAL_ADDRESS:?set TEMPORAL_ADDRESS (host:port of the Temporal frontend)}"
attempts="${ATTEMPTS:-60}"
pause="${PAUSE_SECONDS:-2}"

try=1
until temporal operator cluster health --address "$address" >/dev/null 2>&1; do
    if [ "$try" -ge "$attempts" ]; then
        echo "create-namespace: no healthy Temporal server at $address after $attempts tries" >&2
        exit 1
    fi
    try=$((try + 1))
    sleep "$pause"
done

try=1
until temporal operator namespace describe --address "$address" -n "$namespace" >/dev/null 2>&1; do
    # Creating can fail while the server is still starting its services: try again.
    if temporal operator namespace create --address "$address" -n "$namespace" \
        --retention "${RETENTION:-30d}" >/dev/null 2>&1; then
        echo "namespace $namespace created"
    elif [ "$try" -ge "$attempts" ]; then
        echo "create-namespace: could not create namespace $namespace at $address" >&2
        exit 1
    fi
    try=$((try + 1))
    sleep "$pause"
done
echo "namespace $namespace exists"
