# What to do with the deployment: where the API and the webhook are, and how to reach the workers.

output "api_url" {
  description = "The HTTP API (NIGHTSHIFT_URL of the CLI); every /v1 route needs a token from the nightshift-api-tokens secret."
  value       = google_cloudfunctions2_function.fn["api"].service_config[0].uri
}

output "dashboard_url" {
  description = "The dashboard, where the run links of notifications point (NIGHTSHIFT_PUBLIC_URL: var.public_url, or the api's deterministic address)."
  value       = local.public_url
}

output "api_token_command" {
  description = "Prints the API tokens (comma-separated) the API accepts."
  value       = "gcloud secrets versions access latest --secret=${google_secret_manager_secret.s["api_tokens"].secret_id} --project=${var.project_id}"
}

output "webhook_url" {
  description = "The githubWebhook function: the Payload URL of the repository's webhook."
  value       = google_cloudfunctions2_function.fn["githubWebhook"].service_config[0].uri
}

output "github_webhook_settings" {
  description = "Exactly what to enter in the repository's Settings → Webhooks → Add webhook."
  value       = <<-EOT
    Page:          ${var.github_repository == "" ? "https://github.com/<owner>/<repo>/settings/hooks/new" : "https://github.com/${var.github_repository}/settings/hooks/new"}
    Payload URL:   ${google_cloudfunctions2_function.fn["githubWebhook"].service_config[0].uri}
    Content type:  application/json
    Secret:        the output of: gcloud secrets versions access latest --secret=${google_secret_manager_secret.s["webhook_secret"].secret_id} --project=${var.project_id}
    SSL:           Enable SSL verification
    Events:        Let me select individual events → Issues, Issue comments (untick Pushes)
    Active:        yes
  EOT
}

output "vm_names" {
  description = "The worker VMs."
  value       = [for vm in google_compute_instance.worker : vm.name]
}

output "attach_commands" {
  description = "Attach to each VM's workers' tmux server over IAP, as the worker user that owns it (Ctrl-b s lists the runs' sessions, Ctrl-b d detaches)."
  value = {
    for name, vm in google_compute_instance.worker :
    name => "gcloud compute ssh ${vm.name} --zone ${var.zone} --project ${var.project_id} --tunnel-through-iap -- -t sudo -u nightshift-worker tmux -S /run/nightshift/tmux.sock attach"
  }
}

output "claude_credential_command" {
  description = "Stores the Claude credential the workers use (one of the two lines), then re-runs the VMs' startup."
  value       = "printf 'CLAUDE_CODE_OAUTH_TOKEN=%s\\n' \"$TOKEN\" | gcloud secrets versions add ${google_secret_manager_secret.s["claude_credential"].secret_id} --project=${var.project_id} --data-file=-   # or ANTHROPIC_API_KEY=..."
}
