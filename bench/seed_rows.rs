//! The rows both GraphQL benchmarks seed (the bare handler in `bench_server.rs` and
//! `patchbay-load graphql`), so their pages compare like with like: 40 vendors (each with
//! its category), 200 team tags and 3 environment tags, spread by a hash of the index so
//! filters are independent.

const VENDORS: [(&str, &str); 40] = [
    ("jira", "PROJECT_MANAGEMENT"),
    ("linear", "PROJECT_MANAGEMENT"),
    ("asana", "PROJECT_MANAGEMENT"),
    ("trello", "PROJECT_MANAGEMENT"),
    ("slack", "COMMUNICATION"),
    ("discord", "COMMUNICATION"),
    ("zoom", "COMMUNICATION"),
    ("mattermost", "COMMUNICATION"),
    ("github", "VERSION_CONTROL"),
    ("gitlab", "VERSION_CONTROL"),
    ("bitbucket", "VERSION_CONTROL"),
    ("s3", "CLOUD_STORAGE"),
    ("dropbox", "CLOUD_STORAGE"),
    ("gcs", "CLOUD_STORAGE"),
    ("jenkins", "CI_CD"),
    ("circleci", "CI_CD"),
    ("buildkite", "CI_CD"),
    ("datadog", "MONITORING"),
    ("pagerduty", "MONITORING"),
    ("grafana", "MONITORING"),
    ("sentry", "MONITORING"),
    ("openai", "AI_SERVICE"),
    ("anthropic", "AI_SERVICE"),
    ("salesforce", "CRM"),
    ("hubspot", "CRM"),
    ("sendgrid", "EMAIL"),
    ("mailgun", "EMAIL"),
    ("postgres", "DATABASE"),
    ("snowflake", "DATABASE"),
    ("kafka", "MESSAGING"),
    ("rabbitmq", "MESSAGING"),
    ("sftp", "FILE_TRANSFER"),
    ("segment", "ANALYTICS"),
    ("mixpanel", "ANALYTICS"),
    ("mastodon", "SOCIAL_MEDIA"),
    ("autocad", "CAD"),
    ("ansys", "SIMULATION"),
    ("cadence", "EDA"),
    ("selenium", "TESTING"),
    ("webhookrelay", "CUSTOM"),
];
const ENVS: [&str; 3] = ["prod", "staging", "dev"];

fn splitmix(i: u64) -> u64 {
    let mut x = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The i-th seeded integration: (name, description, category, tags).
pub fn seed_row(i: usize) -> (String, String, &'static str, [String; 2]) {
    let h = splitmix(i as u64);
    let (vendor, category) = VENDORS[(h % 40) as usize];
    let team = (h >> 16) % 200;
    let env = ENVS[((h >> 32) % 3) as usize];
    (
        format!("{vendor}-{i:06}"),
        format!("{vendor} for team-{team:03} ({env})"),
        category,
        [format!("team-{team:03}"), env.to_owned()],
    )
}
