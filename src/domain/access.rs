//! Who is calling, and what they may see and do.

use super::stored_enum;
use crate::error::{AppError, AppResult};
use crate::ids::{IdKind, new_id};
use crate::store::audit::AuditRow;
use crate::store::now;

stored_enum! {
    /// What a token may do: VIEWER reads, EDITOR also changes, ADMIN also manages tokens and keys.
    Role { Admin, Editor, Viewer }
}

impl Role {
    fn rank(self) -> u8 {
        match self {
            Role::Viewer => 0,
            Role::Editor => 1,
            Role::Admin => 2,
        }
    }

    /// True when this role includes everything `other` may do.
    pub fn includes(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }
}

/// The authenticated identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The API token used; `None` for the local CLI.
    pub token_id: Option<String>,
    pub name: String,
    pub role: Role,
    /// A project-scoped token sees only this project.
    pub project_id: Option<String>,
}

impl Principal {
    /// The operator at the local command line (full rights, no token).
    pub fn local_operator() -> Self {
        Principal {
            token_id: None,
            name: "cli".to_owned(),
            role: Role::Admin,
            project_id: None,
        }
    }

    /// Fails with FORBIDDEN unless the role includes `needed`.
    pub fn require(&self, needed: Role) -> AppResult<()> {
        if self.role.includes(needed) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this operation needs the {} role; the token has {}",
                needed.as_str(),
                self.role.as_str()
            )))
        }
    }

    /// Fails with FORBIDDEN for a project-scoped token (for operations across projects).
    pub fn require_unscoped(&self) -> AppResult<()> {
        match self.project_id {
            None => Ok(()),
            Some(_) => Err(AppError::Forbidden(
                "a project-scoped token cannot do this".to_owned(),
            )),
        }
    }

    /// Whether this caller may see the project at all.
    pub fn sees_project(&self, project_id: &str) -> bool {
        self.project_id
            .as_deref()
            .is_none_or(|own| own == project_id)
    }

    /// The projects a listing must be restricted to (`None`: all).
    pub fn project_restriction(&self) -> Option<Vec<String>> {
        self.project_id.clone().map(|id| vec![id])
    }
}

/// The caller of a domain operation: who, and under which request id (for the audit trail).
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub request_id: Option<String>,
}

impl Caller {
    /// patchbay itself, acting in the background (workers disabling an endpoint, …).
    pub fn system() -> Self {
        Caller {
            principal: Principal {
                name: "system".to_owned(),
                ..Principal::local_operator()
            },
            request_id: None,
        }
    }

    pub fn local_operator() -> Self {
        Caller {
            principal: Principal::local_operator(),
            request_id: None,
        }
    }

    /// An audit record of `action` on a target, stamped now.
    pub fn audit(
        &self,
        action: &str,
        target: (&str, Option<&str>),
        project_id: Option<&str>,
        details: serde_json::Value,
    ) -> AuditRow {
        AuditRow {
            id: new_id(IdKind::Audit),
            actor_id: self.principal.token_id.clone(),
            actor_name: self.principal.name.clone(),
            action: action.to_owned(),
            target_type: target.0.to_owned(),
            target_id: target.1.map(str::to_owned),
            project_id: project_id.map(str::to_owned),
            request_id: self.request_id.clone(),
            details: details.to_string(),
            at: now(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Admin.includes(Role::Editor));
        assert!(Role::Editor.includes(Role::Viewer));
        assert!(!Role::Viewer.includes(Role::Editor));
        assert!(!Role::Editor.includes(Role::Admin));
    }

    #[test]
    fn project_scope_limits_visibility() {
        let scoped = Principal {
            token_id: None,
            name: "t".into(),
            role: Role::Viewer,
            project_id: Some("prj_a".into()),
        };
        assert!(scoped.sees_project("prj_a"));
        assert!(!scoped.sees_project("prj_b"));
        assert!(scoped.require(Role::Editor).is_err());
        assert!(Principal::local_operator().sees_project("prj_b"));
    }
}
