# Cloud Scheduler: the tick that queues scheduled runs and posts GitHub summaries, calling the private scheduler function.

resource "google_cloud_scheduler_job" "tick" {
  name        = "nightshift-tick"
  region      = var.region
  description = "nightshift scheduler tick: queues due scheduled runs, posts finished runs' GitHub summaries"
  schedule    = var.scheduler_schedule
  time_zone   = var.scheduler_time_zone
  # A tick that takes longer than the function's timeout has failed; the next one catches up.
  attempt_deadline = "320s"

  # No retries: ticks are idempotent and the next one comes within minutes.
  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = google_cloudfunctions2_function.fn["scheduler"].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.fn["scheduler"].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invoker]
}
