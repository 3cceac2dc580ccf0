//! `factory-factory.json`, the per-repository script configuration (D§7.1).

use serde::Deserialize;

pub const FILE_NAME: &str = "factory-factory.json";

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FactoryConfig {
    #[serde(default)]
    pub scripts: Scripts,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scripts {
    pub setup: Option<String>,
    pub run: Option<String>,
    pub post_run: Option<String>,
    pub cleanup: Option<String>,
}

impl FactoryConfig {
    /// Parses the file's text; blank commands count as absent.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut config: Self = crate::json::from_object_slice(text.as_bytes())
            .map_err(|e| format!("{FILE_NAME} is not valid: {e}"))?;
        for slot in [
            &mut config.scripts.setup,
            &mut config.scripts.run,
            &mut config.scripts.post_run,
            &mut config.scripts.cleanup,
        ] {
            if slot.as_deref().is_some_and(|s| s.trim().is_empty()) {
                *slot = None;
            }
        }
        Ok(config)
    }
}

/// Whether a command wants a port allocated for it.
pub fn needs_port(command: &str) -> bool {
    command.contains("{port}")
}

/// Replaces every `{port}` placeholder.
pub fn with_port(command: &str, port: u16) -> String {
    command.replace("{port}", &port.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_scripts_and_ignores_blank_ones() {
        let config = FactoryConfig::parse(
            r#"{"scripts": {"setup": "npm ci", "run": "npm run dev -- --port {port}", "cleanup": " "}}"#,
        )
        .unwrap();
        assert_eq!(config.scripts.setup.as_deref(), Some("npm ci"));
        assert_eq!(config.scripts.cleanup, None);
        assert_eq!(config.scripts.post_run, None);
        let run = config.scripts.run.unwrap();
        assert!(needs_port(&run));
        assert_eq!(with_port(&run, 4321), "npm run dev -- --port 4321");
    }

    #[test]
    fn an_empty_object_has_no_scripts() {
        assert_eq!(
            FactoryConfig::parse("{}").unwrap(),
            FactoryConfig::default()
        );
    }

    #[test]
    fn invalid_files_are_explained() {
        for bad in ["{", r#"{"scripts": {"run": 5}}"#, "[]"] {
            let err = FactoryConfig::parse(bad).unwrap_err();
            assert!(
                err.starts_with("factory-factory.json is not valid"),
                "{err}"
            );
        }
    }
}
