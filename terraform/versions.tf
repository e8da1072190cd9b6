# Terraform and provider requirements.
#
# No backend block: the `deploy` infrastructure step copies these files into a
# working directory inside its ledger and keeps the state there (local backend).
# Emulator endpoints come from the environment (AWS_ENDPOINT_URL), never from HCL.

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

data "aws_caller_identity" "current" {}

data "aws_partition" "current" {}
