# The four Cloud Functions (2nd gen, nodejs22) from dist/functions, their environment, secrets and who may call them.

locals {
  # One entry per entry point of the bundle (local.names.function_entry_points; a test keeps them equal).
  # env: plain variables; secrets: keys of local.secrets mounted as their variable. Each function gets
  # exactly what its config in functions/src/config.ts reads. Every function reads the fleet (NIGHTSHIFT_VMS, …):
  # the reactor and the tick start worker VMs, the api lists them.
  functions = {
    api = {
      name    = "nightshift-api"
      memory  = "512Mi"
      timeout = 60
      env     = ["GOOGLE_CLOUD_PROJECT", "NIGHTSHIFT_LOG_FORMAT", "NIGHTSHIFT_VMS", "NIGHTSHIFT_WORKERS_PER_VM", "NIGHTSHIFT_VM_HOURLY_USD", "GITHUB_APP_ID", "GITHUB_API_URL"]
      secrets = ["api_tokens", "github_token", "github_app_key"]
    }
    githubWebhook = {
      name    = "nightshift-github-webhook"
      memory  = "256Mi"
      timeout = 60
      env     = ["GOOGLE_CLOUD_PROJECT", "NIGHTSHIFT_LOG_FORMAT", "NIGHTSHIFT_VMS", "NIGHTSHIFT_WORKERS_PER_VM", "NIGHTSHIFT_VM_HOURLY_USD", "GITHUB_APP_ID", "GITHUB_API_URL"]
      secrets = ["webhook_secret", "github_token", "github_app_key"]
    }
    scheduler = {
      name    = "nightshift-scheduler"
      memory  = "256Mi"
      timeout = 300
      env     = ["GOOGLE_CLOUD_PROJECT", "NIGHTSHIFT_LOG_FORMAT", "NIGHTSHIFT_VMS", "NIGHTSHIFT_WORKERS_PER_VM", "NIGHTSHIFT_VM_HOURLY_USD", "GITHUB_APP_ID", "GITHUB_API_URL", "NIGHTSHIFT_PUBLIC_URL"]
      secrets = ["github_token", "github_app_key"]
    }
    reactor = {
      name    = "nightshift-reactor"
      memory  = "256Mi"
      timeout = 60
      env     = ["GOOGLE_CLOUD_PROJECT", "NIGHTSHIFT_LOG_FORMAT", "NIGHTSHIFT_VMS", "NIGHTSHIFT_WORKERS_PER_VM", "NIGHTSHIFT_VM_HOURLY_USD", "GITHUB_APP_ID", "GITHUB_API_URL", "NIGHTSHIFT_PUBLIC_URL"]
      secrets = ["github_token", "github_app_key"]
    }
  }
  # The values of the plain variables. An empty value counts as unset in the code (the price table is used).
  function_env_values = {
    GOOGLE_CLOUD_PROJECT      = var.project_id
    NIGHTSHIFT_LOG_FORMAT     = "json" # what Cloud Logging reads
    NIGHTSHIFT_VMS            = join(",", [for name in sort(keys(local.vms)) : "${var.zone}/${name}"])
    NIGHTSHIFT_WORKERS_PER_VM = tostring(var.workers_per_vm)
    NIGHTSHIFT_VM_HOURLY_USD  = var.vm_hourly_usd == null ? "" : tostring(var.vm_hourly_usd)
    # Empty until you create the GitHub App (README, Private repositories): the code then uses GITHUB_TOKEN.
    GITHUB_APP_ID  = var.github_app_id
    GITHUB_API_URL = var.github_api_url
    # The run links of the notifications the reactor and the tick send (the api serves the dashboard).
    NIGHTSHIFT_PUBLIC_URL = local.public_url
  }
  # The api function's address, known before it exists: the functions are one for_each resource, which may
  # not refer to itself, so the reactor cannot read the api's uri. Cloud Run gives every service whose name
  # is short enough the deterministic https://<service>-<project number>.<region>.run.app (the uri it shows,
  # the api_url output); a 2nd gen function's service has the function's name.
  public_url = var.public_url != "" ? trimsuffix(var.public_url, "/") : "https://${local.functions.api.name}-${data.google_project.this.number}.${var.region}.run.app"
  # The GitHub token is optional in the code; it is mounted once it has a version (use_github_token).
  # The App's key likewise, once github_app_id is set (its secret must have a version by then).
  mounted_secrets = {
    for entry, f in local.functions : entry => [
      for key in f.secrets : key if(key != "github_token" || var.use_github_token) && (key != "github_app_key" || var.github_app_id != "")
    ]
  }
}

# The source archive of every function: the build's bundle and its package.json, installed by Cloud Build.
data "archive_file" "functions" {
  type        = "zip"
  source_dir  = "${path.module}/../dist/functions"
  output_path = "${path.module}/.build/functions.zip"
  excludes    = ["node_modules/**"]

  lifecycle {
    precondition {
      condition     = fileexists("${path.module}/../dist/functions/index.js")
      error_message = "dist/functions is missing: run npm run build in the repository first."
    }
  }
}

resource "google_storage_bucket" "artifacts" {
  name     = "${var.project_id}-nightshift"
  location = var.region
  # Nothing in it is public: IAM only, no ACLs.
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # It holds only build output, which terraform re-uploads: destroy may empty it.
  force_destroy = true
  # Old archives (a new name per content) are removed after a month.
  lifecycle_rule {
    condition {
      age = 30
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "functions" {
  # The content's hash in the name: a new build is a new object, and the functions redeploy.
  name   = "functions/functions-${data.archive_file.functions.output_md5}.zip"
  bucket = google_storage_bucket.artifacts.name
  source = data.archive_file.functions.output_path
}

resource "google_cloudfunctions2_function" "fn" {
  for_each    = local.functions
  name        = each.value.name
  location    = var.region
  description = "nightshift ${each.key}"

  build_config {
    runtime         = "nodejs22"
    entry_point     = each.key
    service_account = google_service_account.build.id
    source {
      storage_source {
        bucket = google_storage_bucket.artifacts.name
        object = google_storage_bucket_object.functions.name
      }
    }
  }

  service_config {
    service_account_email = google_service_account.functions.email
    available_memory      = each.value.memory
    timeout_seconds       = each.value.timeout
    min_instance_count    = 0
    max_instance_count    = 5
    # Every function is reached over the internet: GitHub and Cloud Scheduler call from outside any
    # VPC, Pub/Sub pushes from Google's network, and the API serves the CLI. Who may call is IAM's job.
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true

    environment_variables = merge(
      { for name in each.value.env : name => local.function_env_values[name] },
      {
        # Stack traces name the TypeScript sources (the bundle ships its source map).
        NODE_OPTIONS = "--enable-source-maps"
        # Raising it starts new instances, which read the secrets' latest versions.
        NIGHTSHIFT_SECRET_GENERATION = tostring(var.secret_generation)
      },
    )

    dynamic "secret_environment_variables" {
      for_each = local.mounted_secrets[each.key]
      content {
        key        = local.secrets[secret_environment_variables.value].env
        project_id = var.project_id
        secret     = google_secret_manager_secret.s[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  depends_on = [
    google_project_service.apis,
    google_secret_manager_secret_iam_member.functions,
    google_secret_manager_secret_version.generated,
    google_project_iam_member.build,
  ]
}

# Who may invoke each function (2nd gen functions are Cloud Run services; run.invoker is the gate).

# The API is public at the network on purpose: the CLI, curl and the dashboard call it from anywhere
# with a bearer token (or a session made from one), and every route but /healthz checks it. IAM in
# front would demand a Google identity token from every client instead.
resource "google_cloud_run_v2_service_iam_member" "api_public" {
  name     = google_cloudfunctions2_function.fn["api"].service_config[0].service
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# GitHub cannot present a Google identity: the webhook is public and refuses every delivery whose
# X-Hub-Signature-256 does not match the webhook secret.
resource "google_cloud_run_v2_service_iam_member" "webhook_public" {
  name     = google_cloudfunctions2_function.fn["githubWebhook"].service_config[0].service
  location = var.region
  role     = "roles/run.invoker"
  member   = "allUsers"
}

# Only Cloud Scheduler's job, with an OIDC token of its own service account, may tick.
resource "google_cloud_run_v2_service_iam_member" "scheduler_invoker" {
  name     = google_cloudfunctions2_function.fn["scheduler"].service_config[0].service
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}

# Only the reactor's push subscription, with an OIDC token of its own service account, may push.
resource "google_cloud_run_v2_service_iam_member" "reactor_push" {
  name     = google_cloudfunctions2_function.fn["reactor"].service_config[0].service
  location = var.region
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.reactor_push.email}"
}
