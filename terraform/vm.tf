# The worker VMs (Debian 12): their network with SSH through IAP only, their accounts, and the startup script.

locals {
  vms = { for i in range(var.vm_count) : "nightshift-worker-${i + 1}" => { index = i + 1 } }
}

# A network of its own: a new project's default network lets SSH in from anywhere (default-allow-ssh).
resource "google_compute_network" "nightshift" {
  name                    = "nightshift"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.apis]
}

resource "google_compute_subnetwork" "nightshift" {
  name          = "nightshift-${var.region}"
  network       = google_compute_network.nightshift.id
  region        = var.region
  ip_cidr_range = "10.20.0.0/24"
  # The VMs reach Google's APIs without leaving Google's network.
  private_ip_google_access = true
}

# The only way in: SSH from Identity-Aware Proxy's TCP forwarding range (gcloud compute ssh
# --tunnel-through-iap), to the worker VMs only. Nothing else is allowed in; egress is open (GitHub,
# npm, Anthropic's API).
resource "google_compute_firewall" "iap_ssh" {
  name          = "nightshift-allow-iap-ssh"
  network       = google_compute_network.nightshift.id
  direction     = "INGRESS"
  source_ranges = ["35.235.240.0/20"]
  target_tags   = ["nightshift-worker"]
  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_service_account" "vm" {
  for_each     = local.vms
  account_id   = "nightshift-vm-${each.value.index}"
  display_name = "nightshift ${each.key}"
  description  = "The agent on ${each.key}: pulls commands, writes runs, reads the Claude credential, stops its own VM."
  depends_on   = [google_project_service.apis]
}

# The agent bundle (dist/agent: main.js, the runner, install.sh and the systemd units).
data "archive_file" "agent" {
  type        = "zip"
  source_dir  = "${path.module}/../dist/agent"
  output_path = "${path.module}/.build/agent.zip"
  excludes    = ["node_modules/**"]

  lifecycle {
    precondition {
      condition     = fileexists("${path.module}/../dist/agent/main.js")
      error_message = "dist/agent is missing: run npm run build in the repository first."
    }
  }
}

resource "google_storage_bucket_object" "agent" {
  name   = "agent/agent-${data.archive_file.agent.output_md5}.zip"
  bucket = google_storage_bucket.artifacts.name
  source = data.archive_file.agent.output_path
}

resource "google_compute_instance" "worker" {
  for_each     = local.vms
  name         = each.key
  zone         = var.zone
  machine_type = var.machine_type
  tags         = ["nightshift-worker"]
  labels       = { app = "nightshift" }
  # A change of machine type stops and starts the VM instead of failing the apply.
  allow_stopping_for_update = true

  boot_disk {
    initialize_params {
      image = "debian-cloud/debian-12"
      size  = var.disk_size_gb
      type  = "pd-balanced"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.nightshift.id
    # An ephemeral public address for outbound traffic only (cheaper than Cloud NAT); the firewall lets
    # nothing in but IAP's SSH.
    access_config {}
  }

  service_account {
    email = google_service_account.vm[each.key].email
    # What the VM may do is decided by its account's IAM grants, not by access scopes.
    scopes = ["cloud-platform"]
  }

  # Spot (var.spot): a fraction of the price, but Compute may take the VM back at any time. It is stopped,
  # not deleted, so its disk (workspaces, Claude's sessions) stays; the next start resumes the interrupted
  # runs' sessions (onInterrupt: resume). Spot VMs cannot restart themselves or live-migrate.
  scheduling {
    provisioning_model          = var.spot ? "SPOT" : "STANDARD"
    preemptible                 = var.spot
    automatic_restart           = !var.spot
    on_host_maintenance         = var.spot ? "TERMINATE" : "MIGRATE"
    instance_termination_action = var.spot ? "STOP" : null
  }

  shielded_instance_config {
    enable_secure_boot          = true
    enable_vtpm                 = true
    enable_integrity_monitoring = true
  }

  metadata = {
    # SSH keys come from OS Login (your Google identity), never from project-wide keys.
    enable-oslogin         = "TRUE"
    block-project-ssh-keys = "TRUE"
    # Runs on every boot: installs or updates everything, then (re)starts the agent.
    startup-script = templatefile("${path.module}/startup.sh.tftpl", {
      project           = var.project_id
      bucket            = google_storage_bucket.artifacts.name
      agent_object      = google_storage_bucket_object.agent.name
      credential_secret = google_secret_manager_secret.s["claude_credential"].secret_id
      app_key_secret    = google_secret_manager_secret.s["github_app_key"].secret_id
      git_token_secret  = google_secret_manager_secret.s["git_token"].secret_id
      git_tokens_secret = google_secret_manager_secret.s["git_tokens"].secret_id
      github_app_id     = var.github_app_id
      github_api_url    = var.github_api_url
      max_workers       = var.workers_per_vm
      idle_minutes      = var.idle_minutes
      agent_id          = each.key
    })
  }

  lifecycle {
    # The VMs' subnetwork is in the region: a zone elsewhere could not use it.
    precondition {
      condition     = startswith(var.zone, "${var.region}-")
      error_message = "zone must be in region (e.g. region us-central1, zone us-central1-a)."
    }
  }

  depends_on = [
    google_project_service.apis,
    google_storage_bucket_iam_member.vm_read_bundle,
    google_secret_manager_secret_iam_member.vm,
    google_secret_manager_secret_iam_member.vm_git,
    google_pubsub_subscription_iam_member.vm_subscribe,
    google_project_iam_member.runtime,
  ]
}
