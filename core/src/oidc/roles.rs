//! Which airdesk role a user of the identity provider gets: the values of one claim (a group
//! list, or one string), each looked up in the operator's map. Several mapped values give the
//! highest of their roles; none gives no role, and the sign-in is refused.

use model::{AppError, Role};
use serde_json::Value;

/// `--oidc-role-map 'soc-readers=reader,soc-analysts=search_and_purge,soc-admins=admin'`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleMap(Vec<(String, Role)>);

impl RoleMap {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        let mut pairs = Vec::new();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (value, role) = item.rsplit_once('=').ok_or_else(|| {
                AppError::Invalid(format!("{item:?} in the role map is not value=role"))
            })?;
            let role = Role::parse(role.trim()).ok_or_else(|| {
                AppError::Invalid(format!(
                    "{role:?} in the role map is not a role (reader, search_and_purge, admin)"
                ))
            })?;
            let value = value.trim();
            if value.is_empty() {
                return Err(AppError::Invalid(format!("{item:?} maps an empty value")));
            }
            if pairs.iter().any(|(v, _)| v == value) {
                return Err(AppError::Invalid(format!("{value:?} is mapped twice")));
            }
            pairs.push((value.to_string(), role));
        }
        if pairs.is_empty() {
            return Err(AppError::Invalid(
                "the role map maps nothing: give value=role pairs".into(),
            ));
        }
        Ok(RoleMap(pairs))
    }

    /// The highest role any of the claim's values maps to. Values are compared exactly: a
    /// group named `soc-admins-old` is not `soc-admins`.
    pub fn role_for(&self, values: &[String]) -> Option<Role> {
        self.0
            .iter()
            .filter(|(value, _)| values.iter().any(|v| v == value))
            .map(|(_, role)| *role)
            .max_by_key(|role| rank(*role))
    }

    /// `value=role` pairs, for the Settings page.
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(value, role)| format!("{value}={}", role.as_str()))
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn rank(role: Role) -> u8 {
    match role {
        Role::Reader => 0,
        Role::SearchAndPurge => 1,
        Role::Admin => 2,
    }
}

/// The values of the claim at `path` (dots walk into objects, as in `realm_access.roles`):
/// an array's strings, or one string. Anything else is no value.
pub fn claim_values(claims: &serde_json::Map<String, Value>, path: &str) -> Option<Vec<String>> {
    let mut parts = path.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    match value {
        Value::String(one) => Some(vec![one.clone()]),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map() -> RoleMap {
        RoleMap::parse("soc-readers=reader, soc-analysts=search_and_purge,soc-admins=admin")
            .unwrap()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn the_highest_mapped_role_wins_and_unmapped_values_count_for_nothing() {
        let map = map();
        assert_eq!(map.role_for(&strings(&["soc-readers"])), Some(Role::Reader));
        assert_eq!(
            map.role_for(&strings(&["soc-admins", "soc-readers", "staff"])),
            Some(Role::Admin)
        );
        assert_eq!(
            map.role_for(&strings(&["soc-readers", "soc-analysts"])),
            Some(Role::SearchAndPurge)
        );
        assert_eq!(
            map.role_for(&strings(&["staff", "soc-admins-old", "SOC-ADMINS"])),
            None
        );
        assert_eq!(map.role_for(&[]), None);
    }

    #[test]
    fn a_map_that_cannot_be_read_is_refused() {
        for bad in ["", " , ", "soc=root", "soc", "=admin", "a=reader,a=admin"] {
            assert!(RoleMap::parse(bad).is_err(), "{bad:?} was accepted");
        }
        // A group name may itself hold '=': the role is after the last one.
        let odd = RoleMap::parse("cn=soc,ou=groups=admin");
        assert!(
            odd.is_err(),
            "a comma splits pairs, so 'cn=soc' maps to no role"
        );
        let odd = RoleMap::parse("cn=soc=admin").unwrap();
        assert_eq!(odd.role_for(&strings(&["cn=soc"])), Some(Role::Admin));
        assert_eq!(
            map().describe(),
            "soc-readers=reader,soc-analysts=search_and_purge,soc-admins=admin"
        );
    }

    #[test]
    fn claim_values_are_read_from_lists_strings_and_nested_objects() {
        let claims = json!({
            "groups": ["a", 7, "b"],
            "role": "admins",
            "realm_access": {"roles": ["x"]},
            "flag": true,
        });
        let claims = claims.as_object().unwrap();
        assert_eq!(claim_values(claims, "groups"), Some(strings(&["a", "b"])));
        assert_eq!(claim_values(claims, "role"), Some(strings(&["admins"])));
        assert_eq!(
            claim_values(claims, "realm_access.roles"),
            Some(strings(&["x"]))
        );
        assert_eq!(claim_values(claims, "flag"), None);
        assert_eq!(claim_values(claims, "missing"), None);
        assert_eq!(claim_values(claims, "role.inner"), None);
    }
}
