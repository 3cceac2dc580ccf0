//! The two state machines (D§2.1 workspaces, D§7.2 run scripts): which transitions exist.
//! The server performs each one as a compare-and-swap; this decides which are allowed at all.

use crate::enums::{RunScriptStatus, WorkspaceStatus};

/// Maximum number of setup retries of one workspace (D§2.5).
pub const MAX_INIT_RETRIES: u32 = 3;

impl WorkspaceStatus {
    pub fn can_become(self, to: Self) -> bool {
        use WorkspaceStatus::*;
        matches!(
            (self, to),
            (New, Provisioning)
                | (Provisioning, Ready | Failed)
                | (Ready, Archiving | Provisioning)
                | (Failed, Provisioning | New | Archiving)
                | (Archiving, Ready | Failed | Archived)
        )
    }
}

impl RunScriptStatus {
    pub fn can_become(self, to: Self) -> bool {
        use RunScriptStatus::*;
        matches!(
            (self, to),
            (Idle, Starting)
                | (Starting, Running | Completed | Failed | Stopping)
                | (Running, Stopping | Completed | Failed)
                | (Stopping, Idle)
                | (Completed | Failed, Idle | Starting)
        )
    }

    /// A process may exist for the script.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Starting | Self::Running | Self::Stopping)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_transitions_are_exactly_those_of_the_table() {
        use WorkspaceStatus::*;
        let allowed = [
            (New, Provisioning),
            (Provisioning, Ready),
            (Provisioning, Failed),
            (Ready, Archiving),
            (Ready, Provisioning),
            (Failed, Provisioning),
            (Failed, New),
            (Failed, Archiving),
            (Archiving, Ready),
            (Archiving, Failed),
            (Archiving, Archived),
        ];
        for &from in WorkspaceStatus::ALL {
            for &to in WorkspaceStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }

    #[test]
    fn run_script_transitions_are_exactly_those_of_the_table() {
        use RunScriptStatus::*;
        let allowed = [
            (Idle, Starting),
            (Starting, Running),
            (Starting, Completed),
            (Starting, Failed),
            (Starting, Stopping),
            (Running, Stopping),
            (Running, Completed),
            (Running, Failed),
            (Stopping, Idle),
            (Completed, Idle),
            (Completed, Starting),
            (Failed, Idle),
            (Failed, Starting),
        ];
        for &from in RunScriptStatus::ALL {
            for &to in RunScriptStatus::ALL {
                assert_eq!(
                    from.can_become(to),
                    allowed.contains(&(from, to)),
                    "{from:?} → {to:?}"
                );
            }
        }
    }
}
