"""The AWS driver of the Target interface: one module per service, boto3 and chaosaws, guarded."""
