# The Google APIs the deployment uses, enabled in the project; everything else depends on them.

locals {
  apis = [
    "artifactregistry.googleapis.com", # images of the functions' builds
    "cloudbuild.googleapis.com",       # builds the functions from the source archive
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com", # the project number (Pub/Sub service agent)
    "cloudscheduler.googleapis.com",
    "compute.googleapis.com",
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "iap.googleapis.com", # SSH to the VMs through IAP only
    "logging.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # 2nd gen functions are Cloud Run services
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ]
}

resource "google_project_service" "apis" {
  for_each = toset(local.apis)
  project  = var.project_id
  service  = each.value
  # terraform destroy leaves the APIs on: other things in the project may use them.
  disable_on_destroy = false
}

data "google_project" "this" {
  project_id = var.project_id
  depends_on = [google_project_service.apis]
}
