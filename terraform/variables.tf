# Inputs. The `deploy` CLI writes all of them into terraform.tfvars.json.

variable "project_name" {
  description = "Project name, used in the Project tag."
  type        = string

  validation {
    condition     = length(trimspace(var.project_name)) > 0
    error_message = "project_name must not be empty."
  }
}

variable "environment" {
  description = "Deployment environment (dev, staging, prod, ...); prefixes rule, archive and role names."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9_-]*$", var.environment))
    error_message = "environment must be letters, digits, '-' or '_' (it prefixes AWS resource names)."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.region))
    error_message = "region must look like an AWS region, e.g. us-east-1."
  }
}

variable "event_bus_name" {
  description = "Name of the custom EventBridge bus."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]{1,256}$", var.event_bus_name)) && var.event_bus_name != "default"
    error_message = "event_bus_name must be 1-256 of [A-Za-z0-9._-] and not \"default\"."
  }
}

variable "archive_retention_days" {
  description = "Days the event archive keeps events; 0 keeps them indefinitely."
  type        = number

  validation {
    condition     = var.archive_retention_days >= 0 && floor(var.archive_retention_days) == var.archive_retention_days
    error_message = "archive_retention_days must be a whole number >= 0."
  }
}

variable "enable_schema_registry" {
  description = "Create the EventBridge schema registry with the event types' contract versions (var.schemas)."
  type        = bool
  default     = false
}

variable "schema_registry_name" {
  description = "Name of the schema registry (used only when enable_schema_registry is true)."
  type        = string
}

variable "schemas" {
  description = "Event type key -> registry schema name and its contract versions (version number -> absolute path of the JSON Schema draft 4 file). Empty when the registry is off."
  type = map(object({
    name     = string
    versions = map(string)
  }))
  default = {}
}

variable "dlq_name" {
  description = "Name of the SQS dead-letter queue."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,80}$", var.dlq_name))
    error_message = "dlq_name must be 1-80 of [A-Za-z0-9_-] (a standard queue)."
  }
}

variable "dlq_retention_seconds" {
  description = "Message retention of the dead-letter queue, in seconds (60 to 1209600)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_retention_seconds >= 60 && var.dlq_retention_seconds <= 1209600
    error_message = "dlq_retention_seconds must be between 60 and 1209600 (14 days)."
  }
}

variable "tags" {
  description = "Extra tags for every taggable resource (Project, Environment and ManagedBy are always set)."
  type        = map(string)
  default     = {}
}

variable "routes" {
  description = "The hub's routes (deploy.toml [routes.*]): each a rule, with the targets Terraform makes (functions are wired by deploy's lambdas step)."
  type = map(object({
    rule_name   = string
    description = string
    pattern     = string
    targets = list(object({
      id                    = string
      kind                  = string
      queue_key             = optional(string)
      arn                   = optional(string)
      retry_attempts        = optional(number)
      max_event_age_seconds = optional(number)
      dead_letter           = bool
      input_paths           = optional(map(string))
      input_template        = optional(string)
    }))
  }))
  default = {}

  validation {
    condition = alltrue(flatten([
      for r in values(var.routes) : [
        for t in r.targets : contains(["sqs", "sqs_arn", "state_machine_arn", "bus_arn"], t.kind)
      ]
    ]))
    error_message = "a route target's kind must be sqs, sqs_arn, state_machine_arn or bus_arn."
  }
}

variable "consumer_queues" {
  description = "Queues this deployment creates for routes to deliver to: key -> queue name."
  type        = map(string)
  default     = {}
}
