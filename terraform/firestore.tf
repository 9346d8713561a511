# Firestore in native mode, every composite index the code's queries need, and the TTL policies.

resource "google_firestore_database" "main" {
  project     = var.project_id
  name        = "(default)"
  location_id = coalesce(var.firestore_location, var.region)
  type        = "FIRESTORE_NATIVE"
  # terraform destroy leaves the database and its runs in place: delete it by hand if you mean it
  # (gcloud firestore databases delete --database='(default)').
  deletion_policy = "ABANDON"
  depends_on      = [google_project_service.apis]
}

locals {
  # functions/firestore.indexes.json is the one list of composite indexes (the functions' and the agent's
  # queries); a test holds it to the queries in the code.
  firestore_indexes = {
    for index in jsondecode(file("${path.module}/../functions/firestore.indexes.json")).indexes :
    join("-", concat([index.collectionGroup], [for f in index.fields : "${f.fieldPath}:${f.order}"])) => index
  }
}

resource "google_firestore_index" "composite" {
  for_each    = local.firestore_indexes
  project     = var.project_id
  database    = google_firestore_database.main.name
  collection  = each.value.collectionGroup
  query_scope = each.value.queryScope

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value.fieldPath
      order      = fields.value.order
    }
  }
}

# Bookkeeping that only needs to live days or weeks: Firestore deletes each document some time after its
# expiresAt (a Timestamp), at no cost beyond the deletes. Idempotency keys (a day), GitHub deliveries,
# notification claims and digest days (30 days), GitHub summaries (30 days after posted or given up; none
# while owed), a day budget's run slots (30 days after their day). Runs and their events are the record and are kept.
resource "google_firestore_field" "ttl" {
  for_each = toset([
    local.names.collections.idempotency_keys,
    local.names.collections.github_deliveries,
    local.names.collections.github_feedback,
    local.names.collections.notification_deliveries,
    local.names.collections.notification_digests,
    local.names.collections.budget_slots,
  ])
  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = each.value
  field      = "expiresAt"

  ttl_config {}
  # No query reads expiresAt: without its single-field indexes each write is cheaper.
  index_config {}
}
