# The deployment's inputs, each with a description and a validation that fails at plan time rather than in the cloud.

variable "project_id" {
  description = "The Google Cloud project to deploy into (an empty project is fine). Its id, not its name or number."
  type        = string
  validation {
    # The same rule as GOOGLE_CLOUD_PROJECT in shared/src/config.ts.
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6-30 lowercase letters, digits and dashes, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, Firestore, Cloud Scheduler and the bucket, e.g. us-central1 or europe-west1."
  type        = string
  default     = "us-central1"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must look like us-central1 or europe-west1."
  }
}

variable "zone" {
  description = "Zone of the worker VMs, inside the region, e.g. us-central1-a."
  type        = string
  default     = "us-central1-a"
  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+-[a-z]$", var.zone))
    error_message = "zone must look like us-central1-a."
  }
}

variable "firestore_location" {
  description = "Location of the Firestore database: null for the region, or a multi-region such as nam5 or eur3. Fixed once created."
  type        = string
  default     = null
  nullable    = true
  validation {
    condition     = var.firestore_location == null || can(regex("^[a-z0-9-]+$", var.firestore_location))
    error_message = "firestore_location must be a Firestore location id such as us-central1, nam5 or eur3."
  }
}

variable "machine_type" {
  description = "Machine type of each worker VM. e2-medium (2 vCPU, 4 GB) holds two Claude Code workers comfortably."
  type        = string
  default     = "e2-medium"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]*-[a-z0-9-]+$", var.machine_type))
    error_message = "machine_type must be a Compute Engine machine type such as e2-medium or e2-standard-4."
  }
}

variable "vm_count" {
  description = "Number of worker VMs, each running one agent."
  type        = number
  default     = 1
  validation {
    condition     = var.vm_count >= 1 && var.vm_count <= 10 && floor(var.vm_count) == var.vm_count
    error_message = "vm_count must be a whole number from 1 to 10."
  }
}

variable "workers_per_vm" {
  description = "Runs one VM's agent runs at the same time (NIGHTSHIFT_MAX_WORKERS)."
  type        = number
  default     = 2
  validation {
    # The same range as NIGHTSHIFT_MAX_WORKERS in shared/src/config.ts.
    condition     = var.workers_per_vm >= 1 && var.workers_per_vm <= 64 && floor(var.workers_per_vm) == var.workers_per_vm
    error_message = "workers_per_vm must be a whole number from 1 to 64."
  }
}

variable "idle_minutes" {
  description = "Minutes without a run or a live tmux session before a VM's agent stops its own VM (NIGHTSHIFT_IDLE_MINUTES); the functions start it again when a run waits."
  type        = number
  default     = 15
  validation {
    condition     = var.idle_minutes >= 5 && var.idle_minutes <= 1440 && floor(var.idle_minutes) == var.idle_minutes
    error_message = "idle_minutes must be a whole number from 5 to 1440."
  }
}

variable "disk_size_gb" {
  description = "Boot disk of each worker VM, in GB: the OS, Node, Claude Code and every worker's checkout."
  type        = number
  default     = 30
  validation {
    condition     = var.disk_size_gb >= 10 && var.disk_size_gb <= 2000
    error_message = "disk_size_gb must be from 10 to 2000."
  }
}

variable "github_repository" {
  description = "The GitHub repository (owner/name) whose issues start runs; only used to print its webhook settings page. Empty for none."
  type        = string
  default     = ""
  validation {
    condition     = var.github_repository == "" || can(regex("^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, such as me/blog, or empty."
  }
}

variable "use_github_token" {
  description = "Mount the nightshift-github-token secret as GITHUB_TOKEN (issue comments, pull requests). Add a version to the secret first."
  type        = bool
  default     = false
}

variable "github_app_id" {
  description = "The App ID of your GitHub App (README, Private repositories), for the functions' comments and pull requests and the agents' clones and pushes; empty for none (the functions then use the GitHub token). Add a version to nightshift-github-app-key first."
  type        = string
  default     = ""
  validation {
    condition     = can(regex("^[0-9]{0,12}$", var.github_app_id))
    error_message = "github_app_id must be the App's numeric App ID (its settings page shows it), or empty."
  }
}

variable "github_api_url" {
  description = "GitHub's REST API root: https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server (GITHUB_API_URL)."
  type        = string
  default     = "https://api.github.com"
  validation {
    condition     = can(regex("^https://[^/\\s]+(/[^\\s]*)?$", var.github_api_url))
    error_message = "github_api_url must be an https URL such as https://api.github.com or https://github.example.com/api/v3."
  }
}

variable "public_url" {
  description = "Where the dashboard is reached, for the run links in notifications (NIGHTSHIFT_PUBLIC_URL): empty for the api function's own address (https://nightshift-api-<project number>.<region>.run.app), or your domain in front of it."
  type        = string
  default     = ""
  validation {
    condition     = var.public_url == "" || can(regex("^https://[^/\\s]+(/[^\\s]*)?$", var.public_url))
    error_message = "public_url must be empty or an https URL such as https://nightshift.example.com."
  }
}

variable "scheduler_schedule" {
  description = "Cron schedule of the scheduler tick (Cloud Scheduler): how often worker schedules are looked at."
  type        = string
  default     = "*/5 * * * *"
  validation {
    condition     = length(split(" ", trimspace(var.scheduler_schedule))) == 5
    error_message = "scheduler_schedule must be a cron expression of 5 fields, such as */5 * * * *."
  }
}

variable "scheduler_time_zone" {
  description = "Time zone of scheduler_schedule (the tick only; each worker's schedule carries its own time zone)."
  type        = string
  default     = "Etc/UTC"
}

variable "secret_generation" {
  description = "Raise by one after adding a secret version: the functions start new instances, which read the secrets' latest versions."
  type        = number
  default     = 1
  validation {
    condition     = var.secret_generation >= 1 && floor(var.secret_generation) == var.secret_generation
    error_message = "secret_generation must be a whole number from 1."
  }
}

variable "vm_hourly_usd" {
  description = "Hourly price of one worker VM in USD for GET /v1/vms's cost estimate; null uses the code's on-demand table for the machine type (us-central1 prices)."
  type        = number
  default     = null
  validation {
    condition     = var.vm_hourly_usd == null ? true : var.vm_hourly_usd > 0
    error_message = "vm_hourly_usd must be a positive number of US dollars, or null."
  }
}

variable "spot" {
  description = "Run the worker VMs as Spot VMs (provisioning model SPOT, stopped when preempted): much cheaper; an interrupted run resumes its Claude session when the VM is started again."
  type        = bool
  default     = false
}
