//! Where a host's GraphQL API is (github.md §1, G3): `https://api.github.com/graphql` for
//! github.com, `https://HOST/api/graphql` for Enterprise (not `/api/v3/graphql`), or
//! `<root>/graphql` when `--github-api-url` replaces every root.

use ff_core::github::{Host, GITHUB_COM};

pub fn graphql_url(host: &Host, api_url: Option<&str>) -> String {
    match api_url {
        Some(root) => format!("{root}/graphql"),
        None if host.as_str() == GITHUB_COM => "https://api.github.com/graphql".to_owned(),
        None => format!("https://{host}/api/graphql"),
    }
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
}
