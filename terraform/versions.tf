# Terraform and provider versions: the google provider is pinned to the 6.50 line the schema test checks against.
terraform {
  required_version = ">= 1.5"

  required_providers {
    # shared/src/dev/terraform.test.ts holds every resource here to hashicorp/google 6.50.0's schema.
    google = {
      source  = "hashicorp/google"
      version = "~> 6.50"
    }
    # Zips dist/functions and dist/agent for the bucket (checked against hashicorp/archive 2.7.1).
    archive = {
      source  = "hashicorp/archive"
      version = "~> 2.7"
    }
    # The first API token and webhook secret, so that one apply gives working functions (random 3.7.2).
    random = {
      source  = "hashicorp/random"
      version = "~> 3.7"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
  zone    = var.zone
}
