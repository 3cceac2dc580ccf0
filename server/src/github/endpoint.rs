//! Where a host's APIs are (github.md §1, G3). GraphQL: `https://api.github.com/graphql` for
//! github.com, `https://HOST/api/graphql` for Enterprise (not `/api/v3/graphql`). REST:
//! `https://api.github.com`, `https://HOST/api/v3`. `--github-api-url` replaces every root:
//! REST at `<root>`, GraphQL at `<root>/graphql`.

use ff_core::github::{GithubRepo, Host, GITHUB_COM};

pub fn graphql_url(host: &Host, api_url: Option<&str>) -> String {
    match api_url {
        Some(root) => format!("{root}/graphql"),
        None if host.as_str() == GITHUB_COM => "https://api.github.com/graphql".to_owned(),
        None => format!("https://{host}/api/graphql"),
    }
}

fn rest_root(host: &Host, api_url: Option<&str>) -> String {
    match api_url {
        Some(root) => root.to_owned(),
        None if host.as_str() == GITHUB_COM => "https://api.github.com".to_owned(),
        None => format!("https://{host}/api/v3"),
    }
}

/// An Actions job's log (REST; GitHub answers with a redirect to the plain text).
pub fn job_log_url(repo: &GithubRepo, job_id: u64, api_url: Option<&str>) -> String {
    format!(
        "{}/repos/{}/{}/actions/jobs/{job_id}/logs",
        rest_root(&repo.host, api_url),
        repo.owner,
        repo.repo
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_host_has_its_own_graphql_url() {
        let host = |h| Host::parse(h).unwrap();
        assert_eq!(
            graphql_url(&host("github.com"), None),
            "https://api.github.com/graphql"
        );
        assert_eq!(
            graphql_url(&host("GHE.Example.com"), None),
            "https://ghe.example.com/api/graphql"
        );
        assert_eq!(
            graphql_url(&host("ghe.example.com"), Some("http://127.0.0.1:9")),
            "http://127.0.0.1:9/graphql"
        );
    }

    #[test]
    fn job_logs_are_on_each_hosts_rest_root() {
        let repo = |h| GithubRepo::parse(h, "acme", "app").unwrap();
        assert_eq!(
            job_log_url(&repo("github.com"), 7, None),
            "https://api.github.com/repos/acme/app/actions/jobs/7/logs"
        );
        assert_eq!(
            job_log_url(&repo("ghe.example.com"), 7, None),
            "https://ghe.example.com/api/v3/repos/acme/app/actions/jobs/7/logs"
        );
        assert_eq!(
            job_log_url(&repo("ghe.example.com"), 7, Some("http://127.0.0.1:9")),
            "http://127.0.0.1:9/repos/acme/app/actions/jobs/7/logs"
        );
    }
}
