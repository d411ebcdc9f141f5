//! `courier setup-bucket`: the bucket's CORS rule for the public origin and,
//! where the store has them, its lifecycle rules and the bucket policy
//! statement that lets anyone read public files (and nothing else).

use aws_sdk_s3::error::BuildError;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, CorsConfiguration, CorsRule, ExpirationStatus,
    LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
};
use serde_json::{Value, json};

use signer::Store;
use signer::object_key::{PUBLIC_FILES, PUBLIC_UPLOADS};

use super::bucket::{CommandError, code_of, cors_rule_allows, describe, target};
use crate::settings::Settings;
use crate::storage;

/// Methods the browser uses on the bucket: POST uploads, GET downloads.
const CORS_METHODS: [&str; 4] = ["POST", "GET", "PUT", "HEAD"];
/// Aborts incomplete multipart uploads, in the whole bucket, a day after
/// they began: as long as their token lets the page resume them.
const LIFECYCLE_RULE_ID: &str = "courier-abort-incomplete-multipart";
const ABORT_AFTER_DAYS: i32 = 1;
/// Where multipart uploads are created (at their final key): an abort rule
/// must reach both.
const MULTIPART_AREAS: [&str; 2] = ["files/", PUBLIC_FILES];
/// Where unconfirmed uploads stay, each expired by its own rule: a confirmed
/// upload is copied to `[public/]files/`, so whatever stays under
/// `[public/]uploads/` was never confirmed (or was written again by its grant).
const EXPIRE_RULES: [(&str, &str); 2] = [
    ("courier-expire-unconfirmed-uploads", "uploads/"),
    ("courier-expire-unconfirmed-public-uploads", PUBLIC_UPLOADS),
];
/// The bucket policy statement Courier owns.
const PUBLIC_READ_SID: &str = "CourierPublicRead";

/// Applies the CORS rule for the public origin and, where the store supports
/// them, lifecycle rules that abort incomplete multipart uploads and expire
/// unconfirmed ones, and (with public links on) the bucket policy statement
/// that lets anyone GET `public/files/*`. Idempotent; returns one line per
/// thing it looked at.
pub async fn setup_bucket(settings: &Settings) -> Result<Vec<String>, CommandError> {
    let target = target(settings)?;
    let store = storage::external(target.external).await?;
    let (client, bucket) = (&store.client, store.bucket.as_str());
    let mut report = Vec::new();

    let existing = match client.get_bucket_cors().bucket(bucket).send().await {
        Ok(output) => output.cors_rules().to_vec(),
        Err(error) if code_of(&error).as_deref() == Some("NoSuchCORSConfiguration") => Vec::new(),
        Err(error) => {
            return Err(CommandError::Failed(format!(
                "Could not read the bucket's CORS rules: {}",
                describe(&error)
            )));
        }
    };
    if existing.iter().any(|rule| cors_rule_allows(rule, &target.origin)) {
        report.push(format!("CORS: already allows {} (unchanged)", target.origin));
    } else {
        let mut rules = existing;
        rules.push(
            CorsRule::builder()
                .id("courier")
                .allowed_origins(target.origin.clone())
                .set_allowed_methods(Some(CORS_METHODS.iter().map(|m| m.to_string()).collect()))
                .allowed_headers("*")
                .expose_headers("ETag")
                .max_age_seconds(3600)
                .build()
                .map_err(|e| CommandError::Failed(e.to_string()))?,
        );
        let cors = CorsConfiguration::builder()
            .set_cors_rules(Some(rules))
            .build()
            .map_err(|e| CommandError::Failed(e.to_string()))?;
        client
            .put_bucket_cors()
            .bucket(bucket)
            .cors_configuration(cors)
            .send()
            .await
            .map_err(|e| CommandError::Failed(format!("Could not set the bucket's CORS rules: {}", describe(&e))))?;
        report.push(format!(
            "CORS: now allows {} to POST, GET, PUT and HEAD, and exposes ETag (changed)",
            target.origin
        ));
    }

    report.push(ensure_lifecycle(&store).await?);
    report.push(if settings.limits.links.public {
        ensure_public_read(&store).await?
    } else {
        "bucket policy: public links are off (COURIER_PUBLIC_LINKS=false), so no public read is added (unchanged)"
            .to_owned()
    });
    Ok(report)
}

async fn ensure_lifecycle(store: &Store) -> Result<String, CommandError> {
    let (client, bucket) = (&store.client, store.bucket.as_str());
    let existing = match client.get_bucket_lifecycle_configuration().bucket(bucket).send().await {
        Ok(output) => output.rules().to_vec(),
        Err(error) => match code_of(&error).as_deref() {
            Some("NoSuchLifecycleConfiguration") => Vec::new(),
            Some("NotImplemented") => return Ok("lifecycle: this store has no lifecycle rules (skipped)".to_owned()),
            _ => {
                return Err(CommandError::Failed(format!(
                    "Could not read the bucket's lifecycle rules: {}",
                    describe(&error)
                )));
            }
        },
    };
    let Some(rules) = with_lifecycle_rules(existing).map_err(|e| CommandError::Failed(e.to_string()))? else {
        return Ok(
            "lifecycle: incomplete multipart uploads are aborted and unconfirmed uploads (uploads/, public/uploads/) expire (unchanged)"
                .to_owned(),
        );
    };
    let configuration = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| CommandError::Failed(e.to_string()))?;
    match client
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(configuration)
        .send()
        .await
    {
        Ok(_) => Ok(
            "lifecycle: incomplete multipart uploads are aborted, and unconfirmed uploads (uploads/, public/uploads/) expire, after 1 day (changed)"
                .to_owned(),
        ),
        Err(error) if code_of(&error).as_deref() == Some("NotImplemented") => {
            Ok("lifecycle: this store has no lifecycle rules (skipped)".to_owned())
        }
        Err(error) => Err(CommandError::Failed(format!(
            "Could not set the lifecycle rule: {}",
            describe(&error)
        ))),
    }
}

/// The bucket's lifecycle rules (`existing`) with Courier's in them, every
/// other rule kept; `None` when nothing is missing. Incomplete multipart
/// uploads under `files/` and `public/files/` must be aborted within a day,
/// by Courier's rule or by any others; Courier's own rule, changed by hand
/// so that they no longer are, is replaced, not added to (rule ids are
/// unique). Each unconfirmed area has its expiry rule, found by its id.
fn with_lifecycle_rules(existing: Vec<LifecycleRule>) -> Result<Option<Vec<LifecycleRule>>, BuildError> {
    let aborts = MULTIPART_AREAS
        .iter()
        .all(|area| existing.iter().any(|rule| aborts_within_a_day(rule, area)));
    let missing: Vec<_> = EXPIRE_RULES
        .iter()
        .filter(|(id, _)| !existing.iter().any(|rule| rule.id() == Some(id)))
        .collect();
    if aborts && missing.is_empty() {
        return Ok(None);
    }
    let mut rules = existing;
    if !aborts {
        rules.retain(|rule| rule.id() != Some(LIFECYCLE_RULE_ID));
        rules.push(
            LifecycleRule::builder()
                .id(LIFECYCLE_RULE_ID)
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(ABORT_AFTER_DAYS)
                        .build(),
                )
                .build()?,
        );
    }
    for (id, prefix) in missing {
        rules.push(
            LifecycleRule::builder()
                .id(*id)
                .status(ExpirationStatus::Enabled)
                .filter(LifecycleRuleFilter::builder().prefix(*prefix).build())
                .expiration(LifecycleExpiration::builder().days(1).build())
                .build()?,
        );
    }
    Ok(Some(rules))
}

/// Whether `rule` aborts incomplete multipart uploads of every key under
/// `area` at most a day after they began.
fn aborts_within_a_day(rule: &LifecycleRule, area: &str) -> bool {
    rule.status() == &ExpirationStatus::Enabled
        && rule
            .abort_incomplete_multipart_upload()
            .and_then(|abort| abort.days_after_initiation())
            .is_some_and(|days| days <= ABORT_AFTER_DAYS)
        && prefix_only(rule).is_some_and(|prefix| area.starts_with(prefix))
}

/// The prefix `rule` applies to ("" for the whole bucket), when nothing
/// else (a tag, an object size) narrows it.
fn prefix_only(rule: &LifecycleRule) -> Option<&str> {
    match rule.filter() {
        // The filter's predecessor, which stores may still give back.
        #[allow(deprecated)]
        None => Some(rule.prefix().unwrap_or_default()),
        Some(filter)
            if filter.tag().is_none()
                && filter.and().is_none()
                && filter.object_size_greater_than().is_none()
                && filter.object_size_less_than().is_none() =>
        {
            Some(filter.prefix().unwrap_or_default())
        }
        Some(_) => None,
    }
}

/// Adds (or corrects) the statement that lets anyone GET `public/files/*`,
/// keeping every other statement of the bucket's policy.
async fn ensure_public_read(store: &Store) -> Result<String, CommandError> {
    let (client, bucket) = (&store.client, store.bucket.as_str());
    let no_policies = || {
        format!(
            "bucket policy: this store has no bucket policies, so it cannot let anonymous readers GET {PUBLIC_FILES}: point COURIER_PUBLIC_BASE_URL at a proxy (or the bucket's website endpoint behind one) that serves only {PUBLIC_FILES} (skipped)"
        )
    };
    let existing = match client.get_bucket_policy().bucket(bucket).send().await {
        Ok(output) => output.policy().map(str::to_owned),
        Err(error) => match code_of(&error).as_deref() {
            Some("NoSuchBucketPolicy") => None,
            Some("NotImplemented") => return Ok(no_policies()),
            _ => {
                return Err(CommandError::Failed(format!(
                    "Could not read the bucket's policy ({}): the credentials need s3:GetBucketPolicy and s3:PutBucketPolicy for public links, or set COURIER_PUBLIC_LINKS=false.",
                    describe(&error)
                )));
            }
        },
    };
    let Some(policy) = with_public_read(existing.as_deref(), bucket)
        .map_err(|e| CommandError::Failed(format!("The bucket's policy is not JSON ({e}): fix or delete it.")))?
    else {
        return Ok(format!(
            "bucket policy: anyone may GET {PUBLIC_FILES}* ({PUBLIC_READ_SID}) (unchanged)"
        ));
    };
    match client.put_bucket_policy().bucket(bucket).policy(policy).send().await {
        Ok(_) => Ok(format!(
            "bucket policy: anyone may now GET {PUBLIC_FILES}* and nothing else through {PUBLIC_READ_SID} (changed)"
        )),
        Err(error) if code_of(&error).as_deref() == Some("NotImplemented") => Ok(no_policies()),
        Err(error) if blocked_public_access(&error) => Err(CommandError::Failed(format!(
            "S3 Block Public Access refused the bucket policy that lets anyone GET {PUBLIC_FILES}*: allow bucket policies on this bucket (BlockPublicPolicy and RestrictPublicBuckets off; Courier's statement reaches {PUBLIC_FILES} only), or set COURIER_PUBLIC_LINKS=false."
        ))),
        Err(error) => Err(CommandError::Failed(format!(
            "Could not set the bucket's policy ({}): the credentials need s3:PutBucketPolicy for public links, or set COURIER_PUBLIC_LINKS=false.",
            describe(&error)
        ))),
    }
}

/// `existing` (the bucket's policy, if any) with Courier's statement in it,
/// every other statement kept; `None` when it is already there as it should be.
fn with_public_read(existing: Option<&str>, bucket: &str) -> Result<Option<String>, serde_json::Error> {
    let mut policy: Value = match existing {
        Some(text) => serde_json::from_str(text)?,
        None => json!({ "Version": "2012-10-17" }),
    };
    let mut statements = match policy.get("Statement") {
        Some(Value::Array(statements)) => statements.clone(),
        Some(statement) => vec![statement.clone()],
        None => Vec::new(),
    };
    let is_ours = |s: &Value| s.get("Sid").and_then(Value::as_str) == Some(PUBLIC_READ_SID);
    let in_place = match statements.iter().filter(|s| is_ours(s)).collect::<Vec<_>>().as_slice() {
        [ours] => grants_public_read(ours, bucket),
        // A store that drops statement ids gives ours back without one.
        [] => statements.iter().any(|s| grants_public_read(s, bucket)),
        _ => false,
    };
    if in_place {
        return Ok(None);
    }
    statements.retain(|s| !is_ours(s));
    statements.push(json!({
        "Sid": PUBLIC_READ_SID,
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": public_files_arn(bucket),
    }));
    policy["Statement"] = Value::Array(statements);
    Ok(Some(policy.to_string()))
}

fn public_files_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{PUBLIC_FILES}*")
}

/// Whether `statement` is Courier's, as a store gives it back: MinIO, for
/// one, answers `"Principal": {"AWS": ["*"]}` and single values as lists.
fn grants_public_read(statement: &Value, bucket: &str) -> bool {
    let only = |value: &Value, want: &str| match value {
        Value::String(s) => s == want,
        Value::Array(values) => values.len() == 1 && values[0] == want,
        _ => false,
    };
    let Some(fields) = statement.as_object() else {
        return false;
    };
    let principal = match &statement["Principal"] {
        Value::Object(p) => p.len() == 1 && p.get("AWS").is_some_and(|aws| only(aws, "*")),
        other => only(other, "*"),
    };
    fields
        .keys()
        .all(|k| ["Sid", "Effect", "Principal", "Action", "Resource"].contains(&k.as_str()))
        && statement["Effect"] == "Allow"
        && principal
        && only(&statement["Action"], "s3:GetObject")
        && only(&statement["Resource"], &public_files_arn(bucket))
}

/// AWS answers AccessDenied, naming the setting, when Block Public Access
/// refuses a public policy.
fn blocked_public_access<E: aws_sdk_s3::error::ProvideErrorMetadata, R>(
    error: &aws_sdk_s3::error::SdkError<E, R>,
) -> bool {
    let message = error
        .as_service_error()
        .and_then(|e| e.message())
        .unwrap_or_default()
        .to_ascii_lowercase();
    code_of(error).as_deref() == Some("AccessDenied")
        && (message.contains("blockpublicpolicy") || message.contains("block public access"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_s3::types::Tag;

    /// A rule aborting incomplete multipart uploads after `days`, limited by `filter`.
    fn abort_rule(id: &str, filter: Option<LifecycleRuleFilter>, days: i32, status: ExpirationStatus) -> LifecycleRule {
        LifecycleRule::builder()
            .id(id)
            .status(status)
            .set_filter(filter)
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(days)
                    .build(),
            )
            .build()
            .expect("a rule")
    }

    fn aborting_under(id: &str, prefix: &str, days: i32) -> LifecycleRule {
        abort_rule(id, Some(prefix_filter(prefix)), days, ExpirationStatus::Enabled)
    }

    fn prefix_filter(prefix: &str) -> LifecycleRuleFilter {
        LifecycleRuleFilter::builder().prefix(prefix).build()
    }

    fn expiring(id: &str, prefix: &str) -> LifecycleRule {
        LifecycleRule::builder()
            .id(id)
            .status(ExpirationStatus::Enabled)
            .filter(prefix_filter(prefix))
            .expiration(LifecycleExpiration::builder().days(1).build())
            .build()
            .expect("a rule")
    }

    /// Courier's expiry rules, as an earlier `setup-bucket` left them.
    fn courier_expiry() -> Vec<LifecycleRule> {
        EXPIRE_RULES.iter().map(|(id, prefix)| expiring(id, prefix)).collect()
    }

    fn ours() -> LifecycleRule {
        aborting_under(LIFECYCLE_RULE_ID, "", 1)
    }

    fn ids(rules: &[LifecycleRule]) -> Vec<&str> {
        rules.iter().filter_map(LifecycleRule::id).collect()
    }

    #[test]
    fn a_bucket_without_rules_gets_all_of_courier_s() {
        let rules = with_lifecycle_rules(Vec::new()).expect("rules").expect("changed");
        assert_eq!(
            ids(&rules),
            [
                LIFECYCLE_RULE_ID,
                "courier-expire-unconfirmed-uploads",
                "courier-expire-unconfirmed-public-uploads"
            ]
        );
        assert_eq!(rules[0], ours());
        assert_eq!(rules[1..], courier_expiry());
        for area in ["files/", "public/files/", "uploads/", "anything"] {
            assert!(aborts_within_a_day(&rules[0], area), "{area}");
        }
        assert_eq!(with_lifecycle_rules(rules).expect("rules"), None, "idempotent");
    }

    #[test]
    fn rules_that_abort_under_files_and_public_files_within_a_day_are_enough() {
        #[allow(deprecated)]
        let with_old_prefix = LifecycleRule::builder()
            .id("theirs")
            .status(ExpirationStatus::Enabled)
            .prefix("")
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(1)
                    .build(),
            )
            .build()
            .expect("a rule");
        for enough in [
            vec![ours()],
            vec![aborting_under("theirs", "", 1)],
            // No filter at all, or an empty one: the whole bucket.
            vec![abort_rule("theirs", None, 1, ExpirationStatus::Enabled)],
            vec![abort_rule(
                "theirs",
                Some(LifecycleRuleFilter::builder().build()),
                1,
                ExpirationStatus::Enabled,
            )],
            vec![with_old_prefix],
            // One for each area, or a prefix of each.
            vec![aborting_under("a", "files/", 1), aborting_under("b", "public/", 1)],
            vec![aborting_under("a", "f", 1), aborting_under("b", "public/files/", 1)],
        ] {
            let mut existing = courier_expiry();
            existing.extend(enough.clone());
            assert_eq!(with_lifecycle_rules(existing).expect("rules"), None, "{enough:?}");
        }
    }

    #[test]
    fn without_such_rules_courier_s_is_added_and_every_other_rule_kept() {
        let tagged = LifecycleRuleFilter::builder()
            .tag(Tag::builder().key("k").value("v").build().expect("a tag"))
            .build();
        let larger = LifecycleRuleFilter::builder().object_size_greater_than(1).build();
        for short in [
            vec![],
            // Too late, elsewhere, or one area only.
            vec![aborting_under("theirs", "", 7)],
            vec![aborting_under("theirs", "tmp/", 1)],
            vec![aborting_under("theirs", "files/", 1)],
            vec![aborting_under("theirs", "public/files/", 1)],
            vec![
                aborting_under("a", "files/", 1),
                aborting_under("b", "public/files/", 2),
            ],
            // Off, or narrowed by more than a prefix.
            vec![abort_rule(
                "theirs",
                Some(prefix_filter("")),
                1,
                ExpirationStatus::Disabled,
            )],
            vec![abort_rule("theirs", Some(tagged.clone()), 1, ExpirationStatus::Enabled)],
            vec![abort_rule("theirs", Some(larger.clone()), 1, ExpirationStatus::Enabled)],
            // Expiring objects aborts no upload.
            vec![expiring("theirs", "")],
        ] {
            let mut existing = courier_expiry();
            existing.extend(short.clone());
            let rules = with_lifecycle_rules(existing.clone())
                .expect("rules")
                .unwrap_or_else(|| panic!("unchanged with {short:?}"));
            assert_eq!(rules[..existing.len()], existing, "{short:?}");
            assert_eq!(rules[existing.len()..], [ours()], "{short:?}");
            assert_eq!(with_lifecycle_rules(rules).expect("rules"), None, "idempotent");
        }
    }

    #[test]
    fn courier_s_abort_rule_changed_by_hand_is_replaced_not_added_to() {
        let theirs = expiring("someone-elses", "tmp/");
        for changed in [
            aborting_under(LIFECYCLE_RULE_ID, "", 30),
            aborting_under(LIFECYCLE_RULE_ID, "uploads/", 1),
            abort_rule(
                LIFECYCLE_RULE_ID,
                Some(prefix_filter("")),
                1,
                ExpirationStatus::Disabled,
            ),
            expiring(LIFECYCLE_RULE_ID, ""),
        ] {
            let mut existing = courier_expiry();
            existing.extend([changed.clone(), theirs.clone()]);
            let rules = with_lifecycle_rules(existing)
                .expect("rules")
                .unwrap_or_else(|| panic!("{changed:?} stayed"));
            let mut expected = courier_expiry();
            expected.extend([theirs.clone(), ours()]);
            assert_eq!(rules, expected, "{changed:?}");
        }
    }

    #[test]
    fn missing_expiry_rules_join_the_rules_there() {
        // An earlier setup-bucket's (no public/uploads/ yet), and someone else's.
        let earlier = vec![
            ours(),
            expiring("courier-expire-unconfirmed-uploads", "uploads/"),
            expiring("someone-elses", "tmp/"),
        ];
        let rules = with_lifecycle_rules(earlier.clone()).expect("rules").expect("changed");
        assert_eq!(rules[..3], earlier);
        assert_eq!(
            rules[3..],
            [expiring("courier-expire-unconfirmed-public-uploads", PUBLIC_UPLOADS)]
        );
    }

    #[test]
    fn the_public_read_statement_is_recognised_as_stores_give_it_back() {
        let arn = "arn:aws:s3:::b/public/files/*";
        for statement in [
            json!({"Sid": "CourierPublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn}),
            json!({"Effect": "Allow", "Principal": {"AWS": ["*"]}, "Action": ["s3:GetObject"], "Resource": [arn]}),
        ] {
            assert!(grants_public_read(&statement, "b"), "{statement}");
        }
        for statement in [
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": arn}),
            json!({"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": arn}),
            json!({"Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": arn}),
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": arn, "Condition": {}}),
            json!({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/public/files/*"}),
        ] {
            assert!(!grants_public_read(&statement, "b"), "{statement}");
        }
    }

    #[test]
    fn the_statement_joins_the_policy_once_and_others_stay() {
        let ours = json!({"Sid": "CourierPublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/public/files/*"});
        let theirs = json!({"Sid": "Theirs", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"});
        let statements = |policy: &str| -> Vec<Value> {
            serde_json::from_str::<Value>(policy).expect("JSON")["Statement"]
                .as_array()
                .expect("a list")
                .clone()
        };

        let fresh = with_public_read(None, "b").expect("JSON").expect("a policy");
        assert_eq!(statements(&fresh), std::slice::from_ref(&ours));
        assert_eq!(with_public_read(Some(&fresh), "b").expect("JSON"), None, "idempotent");

        // Another statement, as one object: kept, ours added.
        let single = json!({"Version": "2012-10-17", "Id": "x", "Statement": theirs}).to_string();
        let merged = with_public_read(Some(&single), "b").expect("JSON").expect("changed");
        assert_eq!(statements(&merged), [theirs.clone(), ours.clone()]);
        assert_eq!(serde_json::from_str::<Value>(&merged).expect("JSON")["Id"], "x");
        assert_eq!(with_public_read(Some(&merged), "b").expect("JSON"), None);

        // Ours, changed by hand (the whole bucket): replaced, not added to.
        let mut widened = ours.clone();
        widened["Resource"] = json!("arn:aws:s3:::b/*");
        let policy = json!({"Version": "2012-10-17", "Statement": [widened, theirs]}).to_string();
        let fixed = with_public_read(Some(&policy), "b").expect("JSON").expect("changed");
        assert_eq!(statements(&fixed), [theirs, ours]);

        assert!(with_public_read(Some("not json"), "b").is_err());
    }
}
