"""Names of the stack outputs, shared by the program, its tests and the docs."""

BUCKET_NAME = "bucket_name"
BUCKET_ARN = "bucket_arn"
REGION = "region"
KMS_KEY_ARN = "kms_key_arn"
BACKUP_ROLE_ARN = "backup_role_arn"
RESTORE_ROLE_ARN = "restore_role_arn"
BREAK_GLASS_ROLE_ARN = "break_glass_role_arn"
INSTANCE_PROFILE = "instance_profile"
RESTORE_INSTANCE_PROFILE = "restore_instance_profile"
RESTORE_INSTANCE_PROFILE_ARN = "restore_instance_profile_arn"
PASSPHRASE_PARAMETER = "passphrase_parameter"
TOPIC_ARN = "alert_topic_arn"
DASHBOARD_URL = "dashboard_url"
REPLICA_BUCKET_NAME = "replica_bucket_name"
REPLICA_REGION = "replica_region"
REPLICA_KMS_KEY_ARN = "replica_kms_key_arn"
ACCESS_LOG_BUCKET = "access_log_bucket"
BACKUP_USER_KEY_ID = "backup_user_access_key_id"
BACKUP_USER_KEY_SECRET = "backup_user_secret_access_key"
RESTORE_USER_KEY_ID = "restore_user_access_key_id"
RESTORE_USER_KEY_SECRET = "restore_user_secret_access_key"
#: outputs only with ``pgvault:access.iam_user`` (each secret one is exported as a secret)
IAM_USER = (BACKUP_USER_KEY_ID, BACKUP_USER_KEY_SECRET, RESTORE_USER_KEY_ID, RESTORE_USER_KEY_SECRET)
SECRET = (BACKUP_USER_KEY_SECRET, RESTORE_USER_KEY_SECRET)

ALWAYS = (BUCKET_NAME, BUCKET_ARN, REGION, KMS_KEY_ARN, BACKUP_ROLE_ARN, RESTORE_ROLE_ARN, BREAK_GLASS_ROLE_ARN,
          INSTANCE_PROFILE, RESTORE_INSTANCE_PROFILE, RESTORE_INSTANCE_PROFILE_ARN, PASSPHRASE_PARAMETER, TOPIC_ARN,
          DASHBOARD_URL)
