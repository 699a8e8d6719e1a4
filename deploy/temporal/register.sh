#!/bin/sh
# Creates the namespace and Aftercare's custom search attributes (SPEC section 5); idempotent.
set -eu
ns="${TEMPORAL_NAMESPACE:-default}"
temporal operator namespace describe --namespace "$ns" >/dev/null 2>&1 ||
  temporal operator namespace create --namespace "$ns" --retention 30d
for attribute in TicketStatus:Keyword TicketPriority:Keyword TicketCategory:Keyword EscalationLevel:Int \
  SlaBreached:Bool AssigneeId:Keyword CustomerId:Keyword NextDeadline:Datetime; do
  name="${attribute%%:*}"
  type="${attribute##*:}"
  temporal operator search-attribute create --namespace "$ns" --name "$name" --type "$type" 2>/dev/null ||
    temporal operator search-attribute list --namespace "$ns" | grep -q "$name"
done
echo "namespace $ns ready with Aftercare's search attributes"
