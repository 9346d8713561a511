# Service accounts, one per role, and each one's grants: the least each needs (a test holds roles to an allow-list).

# The functions at run time: Firestore, publish commands and run.status, read their secrets, start the VMs.
resource "google_service_account" "functions" {
  account_id   = "nightshift-functions"
  display_name = "nightshift functions"
  description  = "Runs the api, githubWebhook, scheduler and reactor functions."
  depends_on   = [google_project_service.apis]
}

# Cloud Build, when it builds the functions from the archive (new projects no longer give the default
# build account these rights): the three roles Google's docs list for a build service account.
resource "google_service_account" "build" {
  account_id   = "nightshift-build"
  display_name = "nightshift functions build"
  description  = "Builds the functions' source archive with Cloud Build."
  depends_on   = [google_project_service.apis]
}

# Cloud Scheduler's tick: may invoke the scheduler function, nothing else.
resource "google_service_account" "scheduler" {
  account_id   = "nightshift-scheduler"
  display_name = "nightshift scheduler tick"
  description  = "Signs the OIDC token of the Cloud Scheduler tick; may invoke the scheduler function only."
  depends_on   = [google_project_service.apis]
}

# The reactor's push subscription: may invoke the reactor function, nothing else.
resource "google_service_account" "reactor_push" {
  account_id   = "nightshift-reactor-push"
  display_name = "nightshift reactor push"
  description  = "Signs the OIDC token of the run.status push subscription; may invoke the reactor function only."
  depends_on   = [google_project_service.apis]
}

# One account per worker VM (vm.tf), so that each may stop itself and no other VM.

locals {
  project_member = {
    functions = "serviceAccount:${google_service_account.functions.email}"
    build     = "serviceAccount:${google_service_account.build.email}"
  }
  # Project-level grants; Firestore's IAM has no finer level than the project.
  project_roles = merge(
    {
      "functions-datastore" = { member = local.project_member.functions, role = "roles/datastore.user" }
      "build-logs"          = { member = local.project_member.build, role = "roles/logging.logWriter" }
      "build-images"        = { member = local.project_member.build, role = "roles/artifactregistry.writer" }
      "build-sources"       = { member = local.project_member.build, role = "roles/storage.objectAdmin" }
    },
    merge([
      for vm, _ in local.vms : {
        "${vm}-datastore" = { member = "serviceAccount:${google_service_account.vm[vm].email}", role = "roles/datastore.user" }
        # The Ops Agent ships the journal (the agent's and workers' logs) to Cloud Logging.
        "${vm}-logs" = { member = "serviceAccount:${google_service_account.vm[vm].email}", role = "roles/logging.logWriter" }
      }
    ]...),
  )
}

resource "google_project_iam_member" "build" {
  for_each = { for k, v in local.project_roles : k => v if startswith(k, "build-") }
  project  = var.project_id
  role     = each.value.role
  member   = each.value.member
}

resource "google_project_iam_member" "runtime" {
  for_each = { for k, v in local.project_roles : k => v if !startswith(k, "build-") }
  project  = var.project_id
  role     = each.value.role
  member   = each.value.member
}

# The functions publish run.start/run.cancel and run.status; the agents publish run.status.
resource "google_pubsub_topic_iam_member" "functions_publish" {
  for_each = {
    commands   = google_pubsub_topic.commands.name
    run_status = google_pubsub_topic.run_status.name
  }
  topic  = each.value
  role   = "roles/pubsub.publisher"
  member = local.project_member.functions
}

resource "google_pubsub_topic_iam_member" "vm_publish_status" {
  for_each = local.vms
  topic    = google_pubsub_topic.run_status.name
  role     = "roles/pubsub.publisher"
  member   = "serviceAccount:${google_service_account.vm[each.key].email}"
}

# The agents pull commands from their one subscription.
resource "google_pubsub_subscription_iam_member" "vm_subscribe" {
  for_each     = local.vms
  subscription = google_pubsub_subscription.agent.name
  role         = "roles/pubsub.subscriber"
  member       = "serviceAccount:${google_service_account.vm[each.key].email}"
}

# Secrets, each to whoever reads it: the functions' three, the VMs' Claude credential.
resource "google_secret_manager_secret_iam_member" "functions" {
  for_each  = toset(distinct(flatten([for f in local.functions : f.secrets])))
  secret_id = google_secret_manager_secret.s[each.value].id
  role      = "roles/secretmanager.secretAccessor"
  member    = local.project_member.functions
}

resource "google_secret_manager_secret_iam_member" "vm" {
  for_each  = local.vms
  secret_id = google_secret_manager_secret.s["claude_credential"].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.vm[each.key].email}"
}

# Each VM's agent reads the git credentials itself, at each use (the App's key, the git tokens): those
# secrets alone, one grant per VM and secret.
resource "google_secret_manager_secret_iam_member" "vm_git" {
  for_each  = { for pair in setproduct(keys(local.vms), local.agent_secrets) : "${pair[0]}/${pair[1]}" => { vm = pair[0], secret = pair[1] } }
  secret_id = google_secret_manager_secret.s[each.value.secret].id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.vm[each.value.vm].email}"
}

# The VMs download the agent bundle from the bucket (read only).
resource "google_storage_bucket_iam_member" "vm_read_bundle" {
  for_each = local.vms
  bucket   = google_storage_bucket.artifacts.name
  role     = "roles/storage.objectViewer"
  member   = "serviceAccount:${google_service_account.vm[each.key].email}"
}

# Starting and stopping VMs: custom roles of exactly what the code calls, granted per instance. The
# functions read a VM's status and start it (functions/src/vms/compute.ts); an agent only stops its own
# VM (agent/src/vm.ts). (A custom role is soft-deleted by destroy; an apply within 7 days restores it,
# see README.)
resource "google_project_iam_custom_role" "vm_start" {
  role_id     = "nightshiftVmStart"
  title       = "nightshift: start a worker VM"
  description = "Start (and read) a worker VM; granted to the functions on each worker VM."
  permissions = ["compute.instances.get", "compute.instances.start"]
  depends_on  = [google_project_service.apis]
}

resource "google_project_iam_custom_role" "vm_stop" {
  role_id     = "nightshiftVmStop"
  title       = "nightshift: stop a worker VM"
  description = "Stop a worker VM; granted to each VM's own account on that VM only."
  permissions = ["compute.instances.stop"]
  depends_on  = [google_project_service.apis]
}

resource "google_compute_instance_iam_member" "functions_start" {
  for_each      = local.vms
  zone          = var.zone
  instance_name = google_compute_instance.worker[each.key].name
  role          = google_project_iam_custom_role.vm_start.name
  member        = local.project_member.functions
}

resource "google_compute_instance_iam_member" "vm_stop_self" {
  for_each      = local.vms
  zone          = var.zone
  instance_name = google_compute_instance.worker[each.key].name
  role          = google_project_iam_custom_role.vm_stop.name
  member        = "serviceAccount:${google_service_account.vm[each.key].email}"
}
