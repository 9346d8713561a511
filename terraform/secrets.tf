# Secret Manager: what the functions and the VMs read, created here and filled with `gcloud secrets versions add`.

locals {
  # key => the secret's id and the environment variable it becomes (the VM's credential is a whole env file).
  secrets = {
    api_tokens        = { id = "nightshift-api-tokens", env = "NIGHTSHIFT_API_TOKENS" }
    webhook_secret    = { id = "nightshift-github-webhook-secret", env = "GITHUB_WEBHOOK_SECRET" }
    github_token      = { id = "nightshift-github-token", env = "GITHUB_TOKEN" }
    claude_credential = { id = "nightshift-claude-credential", env = null }
    # Private repositories (README, Private repositories): the GitHub App's private key (the functions
    # mount it, the agents read it), and the agents' git tokens. The agents read these at each use
    # (sm:// in agent.env), so a new version takes effect at the next run; an empty secret is off.
    github_app_key = { id = "nightshift-github-app-key", env = "GITHUB_APP_PRIVATE_KEY" }
    git_token      = { id = "nightshift-git-token", env = null }
    git_tokens     = { id = "nightshift-git-tokens", env = null }
  }
  # What each VM's agent reads from Secret Manager itself, and nothing else (the Claude credential is
  # the startup script's).
  agent_secrets = ["github_app_key", "git_token", "git_tokens"]
  # A function cannot start on a secret without a version, so these two get a first random one here
  # (read it with `gcloud secrets versions access latest --secret=...`, replace it any time). The GitHub
  # token and the Claude credential are yours to add; the token is mounted only once use_github_token is set.
  generated_secrets = ["api_tokens", "webhook_secret"]
}

resource "google_secret_manager_secret" "s" {
  for_each  = local.secrets
  project   = var.project_id
  secret_id = each.value.id
  replication {
    auto {}
  }
  depends_on = [google_project_service.apis]
}

resource "random_password" "generated" {
  for_each = toset(local.generated_secrets)
  length   = 40
  # Letters and digits: a token that survives a shell, a header and a comma-separated list.
  special = false
}

resource "google_secret_manager_secret_version" "generated" {
  for_each = toset(local.generated_secrets)
  secret   = google_secret_manager_secret.s[each.value].id
  # API tokens look like the ones npm start makes.
  secret_data = each.value == "api_tokens" ? "ns_${random_password.generated[each.value].result}" : random_password.generated[each.value].result
  # Rotation adds newer versions and disables this one; terraform leaves that alone.
  lifecycle {
    ignore_changes = [enabled, secret_data]
  }
}
