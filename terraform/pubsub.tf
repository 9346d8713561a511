# Pub/Sub: the command topic and the agents' subscription, run.status and the reactor's push subscription, dead letters.
#
# Every reliability setting is written out rather than left to a default, with the reason beside it.
# No message ordering anywhere: commands carry a version and are idempotent, and the emulator stalls
# when ordering and a dead-letter policy are combined, so tests could not cover it.

locals {
  # Pub/Sub's own service agent: it moves undeliverable messages to a dead-letter topic, so it must
  # publish there and acknowledge (subscribe) on the source subscription.
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  # A message nobody acknowledged is kept this long (the maximum) on each subscription.
  retention = "604800s"
}

resource "google_pubsub_topic" "commands" {
  name = local.names.commands_topic
  # The topic keeps nothing itself (no message_retention_duration): the subscriptions retain what
  # they have not delivered.
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "commands_dead" {
  name       = local.names.dead_letter_topic
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_subscription" "agent" {
  name  = local.names.agent_subscription
  topic = google_pubsub_topic.commands.id
  # The agent acknowledges a command once it has claimed or refused the run (seconds); 60 s leaves room
  # for a slow Firestore write without a redelivery, and the client extends it while it works.
  ack_deadline_seconds = 60
  # A command waits up to 7 days for an agent (a stopped VM); the scheduler tick republishes queued runs anyway.
  message_retention_duration = local.retention
  retain_acked_messages      = false
  # Subscriptions otherwise expire after 31 days without a pull: a fleet switched off for a month would
  # lose its subscription. An empty ttl means never.
  expiration_policy {
    ttl = ""
  }
  # A nack or a missed deadline is retried with backoff, from 1 s (a claim race) to 60 s (an outage).
  retry_policy {
    minimum_backoff = "1s"
    maximum_backoff = "60s"
  }
  # After 5 failed deliveries a command goes to the dead-letter topic to be looked at, never dropped.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.commands_dead.id
    max_delivery_attempts = local.names.max_delivery_attempts
  }
  # Commands are idempotent (each carries its run id and version): at-least-once delivery is enough.
  enable_exactly_once_delivery = false
  enable_message_ordering      = false
}

# Someone can read what was dead-lettered: gcloud pubsub subscriptions pull nightshift-run-commands-dead.
resource "google_pubsub_subscription" "commands_dead" {
  name                       = local.names.dead_letter_subscription
  topic                      = google_pubsub_topic.commands_dead.id
  ack_deadline_seconds       = 60
  message_retention_duration = local.retention
  retain_acked_messages      = false
  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_topic" "run_status" {
  name       = local.names.run_status_topic
  depends_on = [google_project_service.apis]
}

resource "google_pubsub_topic" "run_status_dead" {
  name       = local.names.run_status_dead_letter_topic
  depends_on = [google_project_service.apis]
}

# run.status events are pushed to the private reactor function, authenticated with an OIDC token of a
# service account that alone may invoke it.
resource "google_pubsub_subscription" "reactor" {
  name  = local.names.reactor_subscription
  topic = google_pubsub_topic.run_status.id
  # The reactor answers within its own timeout (60 s); a push not answered in time is retried.
  ack_deadline_seconds       = 60
  message_retention_duration = local.retention
  retain_acked_messages      = false
  expiration_policy {
    ttl = ""
  }
  # A 5xx or timeout from the reactor is retried with backoff, from 1 s to 60 s.
  retry_policy {
    minimum_backoff = "1s"
    maximum_backoff = "60s"
  }
  # After 5 failed pushes the event is dead-lettered; the scheduler tick is the safety net for its effects.
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.run_status_dead.id
    max_delivery_attempts = local.names.max_delivery_attempts
  }
  enable_exactly_once_delivery = false
  enable_message_ordering      = false

  push_config {
    push_endpoint = google_cloudfunctions2_function.fn["reactor"].service_config[0].uri
    oidc_token {
      service_account_email = google_service_account.reactor_push.email
      audience              = google_cloudfunctions2_function.fn["reactor"].service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.reactor_push]
}

resource "google_pubsub_subscription" "run_status_dead" {
  name                       = local.names.run_status_dead_letter_subscription
  topic                      = google_pubsub_topic.run_status_dead.id
  ack_deadline_seconds       = 60
  message_retention_duration = local.retention
  retain_acked_messages      = false
  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering: the Pub/Sub service agent publishes to each dead-letter topic and acknowledges the
# message on the subscription it came from.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  for_each = {
    commands   = google_pubsub_topic.commands_dead.name
    run_status = google_pubsub_topic.run_status_dead.name
  }
  topic  = each.value
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = {
    agent   = google_pubsub_subscription.agent.name
    reactor = google_pubsub_subscription.reactor.name
  }
  subscription = each.value
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}

# Pub/Sub's service agent signs the push subscription's OIDC tokens as the reactor's push account
# (projects made since April 2021 need no such grant; older ones do, and it is harmless in a new one).
resource "google_service_account_iam_member" "pubsub_signs_push_tokens" {
  service_account_id = google_service_account.reactor_push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}
