//! Request bodies for creating and updating audits, checked property by
//! property before anything reaches storage.
//!
//! The rules follow Graph's OData reader: names are case-sensitive, unknown
//! properties are refused, enum members must match exactly, non-nullable
//! properties refuse `null`, and `Edm.DateTimeOffset` literals need an
//! offset. Instance annotations (`@odata.context`, `prop@odata.type`, ...)
//! are ignored, because SDKs send back what they received; `@odata.type`
//! itself must name `remoteActionAudit`.

use std::collections::HashSet;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::audit::RemoteActionAudit;
use super::date_time::DateTimeOffset;
use super::enums::{EnumType, MemberLookup};
use super::property::{Property, PropertyType};

/// The longest string property value accepted, in characters.
pub const MAX_STRING_CHARS: usize = 1024;
/// The longest `id` accepted, in characters.
pub const MAX_ID_CHARS: usize = 256;

/// Whether a body creates an audit or updates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Create,
    Update,
}

/// A body that cannot be used, with a message for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InputError {
    pub message: String,
}

impl InputError {
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// The properties a body sent. `None` means absent; for nullable strings,
/// `Some(None)` means an explicit `null`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditInput {
    pub id: Option<String>,
    pub device_display_name: Option<Option<String>>,
    pub user_name: Option<Option<String>>,
    pub initiated_by_user_principal_name: Option<Option<String>>,
    pub action: Option<i64>,
    pub request_date_time: Option<DateTimeOffset>,
    pub device_owner_user_principal_name: Option<Option<String>>,
    pub device_imei: Option<Option<String>>,
    pub action_state: Option<i64>,
    pub managed_device_id: Option<Option<String>>,
    pub bulk_device_action_id: Option<Option<String>>,
    pub device_action_category: Option<i64>,
}

impl AuditInput {
    /// Parses and checks a JSON body.
    ///
    /// `include_unknown_enum_members` is the client's opt-in to evolvable
    /// enum members after `unknownFutureValue`.
    pub fn parse(
        body: &[u8],
        kind: BodyKind,
        include_unknown_enum_members: bool,
    ) -> Result<Self, InputError> {
        let members: Members = serde_json::from_slice(body)
            .map_err(|e| InputError::new(format!("The request body is not valid: {e}.")))?;

        let mut input = AuditInput::default();
        let mut seen = HashSet::with_capacity(members.0.len());
        for (name, value) in members.0 {
            if !seen.insert(name.clone()) {
                return Err(InputError::new(format!(
                    "The property '{name}' appears more than once in the request body."
                )));
            }
            input.accept(&name, value, kind, include_unknown_enum_members)?;
        }
        Ok(input)
    }

    fn accept(
        &mut self,
        name: &str,
        value: Value,
        kind: BodyKind,
        include_unknown: bool,
    ) -> Result<(), InputError> {
        if name == "@odata.type" {
            return check_odata_type(&value);
        }
        if let Some((target, _)) = name.split_once('@') {
            // An instance annotation (`@x.y`) or a property annotation
            // (`prop@x.y`): ignored, but only on a property that exists.
            if target.is_empty() || Property::from_name(target).is_some() {
                return Ok(());
            }
            return Err(unknown_property(target));
        }
        let property = Property::from_name(name).ok_or_else(|| unknown_property(name))?;

        if value.is_null() && !property.is_nullable() {
            return Err(InputError::new(format!(
                "The property '{name}' cannot be null: it is not nullable on type \
                 'microsoft.graph.remoteActionAudit'."
            )));
        }

        match property.edm_type() {
            PropertyType::String => self.accept_string(property, value),
            PropertyType::DateTimeOffset => {
                self.request_date_time = Some(parse_date_time(property, &value)?);
                Ok(())
            }
            PropertyType::Enum(enum_type) => {
                let member = parse_member(property, enum_type, &value, kind, include_unknown)?;
                self.set_enum(property, member);
                Ok(())
            }
        }
    }

    fn accept_string(&mut self, property: Property, value: Value) -> Result<(), InputError> {
        let text = match value {
            Value::Null => None,
            Value::String(text) => Some(text),
            other => return Err(wrong_type(property, "a string or null", &other)),
        };
        if let Some(text) = &text {
            check_string(property, text)?;
        }

        let slot = match property {
            Property::Id => {
                self.id = text;
                return Ok(());
            }
            Property::DeviceDisplayName => &mut self.device_display_name,
            Property::UserName => &mut self.user_name,
            Property::InitiatedByUserPrincipalName => &mut self.initiated_by_user_principal_name,
            Property::DeviceOwnerUserPrincipalName => &mut self.device_owner_user_principal_name,
            Property::DeviceImei => &mut self.device_imei,
            Property::ManagedDeviceId => &mut self.managed_device_id,
            _ => &mut self.bulk_device_action_id,
        };
        *slot = Some(text);
        Ok(())
    }

    /// Records an enum value; `None` (the sentinel in an update) leaves the
    /// property absent.
    fn set_enum(&mut self, property: Property, member: Option<i64>) {
        match property {
            Property::Action => self.action = member,
            Property::ActionState => self.action_state = member,
            _ => self.device_action_category = member,
        }
    }

    /// Builds a new audit. `action` is required; `requestDateTime` defaults
    /// to now, `actionState` to `none` and `deviceActionCategory` to
    /// `single` (the zero members, as OData defaults enums); the id is a new
    /// UUID unless the body named one.
    pub fn into_new_audit(self) -> Result<RemoteActionAudit, InputError> {
        let action = self.action.ok_or_else(|| {
            InputError::new("The property 'action' is required to create a remoteActionAudit.")
        })?;

        Ok(RemoteActionAudit {
            id: self.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            device_display_name: self.device_display_name.flatten(),
            user_name: self.user_name.flatten(),
            initiated_by_user_principal_name: self.initiated_by_user_principal_name.flatten(),
            action,
            request_date_time: self.request_date_time.unwrap_or_else(DateTimeOffset::now),
            device_owner_user_principal_name: self.device_owner_user_principal_name.flatten(),
            device_imei: self.device_imei.flatten(),
            action_state: self.action_state.unwrap_or(0),
            managed_device_id: self.managed_device_id.flatten(),
            bulk_device_action_id: self.bulk_device_action_id.flatten(),
            device_action_category: self.device_action_category.unwrap_or(0),
        })
    }

    /// Applies the properties the body sent; absent ones keep their value.
    pub fn apply_to(&self, audit: &mut RemoteActionAudit) {
        fn set<T: Clone>(slot: &mut T, value: &Option<T>) {
            if let Some(value) = value {
                *slot = value.clone();
            }
        }

        set(&mut audit.device_display_name, &self.device_display_name);
        set(&mut audit.user_name, &self.user_name);
        set(
            &mut audit.initiated_by_user_principal_name,
            &self.initiated_by_user_principal_name,
        );
        set(&mut audit.action, &self.action);
        set(&mut audit.request_date_time, &self.request_date_time);
        set(
            &mut audit.device_owner_user_principal_name,
            &self.device_owner_user_principal_name,
        );
        set(&mut audit.device_imei, &self.device_imei);
        set(&mut audit.action_state, &self.action_state);
        set(&mut audit.managed_device_id, &self.managed_device_id);
        set(
            &mut audit.bulk_device_action_id,
            &self.bulk_device_action_id,
        );
        set(
            &mut audit.device_action_category,
            &self.device_action_category,
        );
    }
}

fn unknown_property(name: &str) -> InputError {
    InputError::new(format!(
        "The property '{name}' does not exist on type 'microsoft.graph.remoteActionAudit'. \
         Make sure to only use property names that are defined by the type."
    ))
}

fn check_odata_type(value: &Value) -> Result<(), InputError> {
    match value.as_str() {
        Some("#microsoft.graph.remoteActionAudit" | "microsoft.graph.remoteActionAudit") => Ok(()),
        _ => Err(InputError::new(format!(
            "The '@odata.type' {value} is not '#microsoft.graph.remoteActionAudit', the only \
             type this entity set holds."
        ))),
    }
}

fn check_string(property: Property, text: &str) -> Result<(), InputError> {
    let name = property.name();
    let limit = if property == Property::Id {
        MAX_ID_CHARS
    } else {
        MAX_STRING_CHARS
    };

    if text.contains('\0') {
        return Err(InputError::new(format!(
            "The property '{name}' contains a NUL character, which is not allowed."
        )));
    }
    if text.chars().count() > limit {
        return Err(InputError::new(format!(
            "The property '{name}' is longer than {limit} characters."
        )));
    }
    if property == Property::Id && !is_usable_key(text) {
        return Err(InputError::new(
            "The property 'id' must be a string with visible characters, no control \
             characters, not '.' or '..', and not starting with '$' (reserved for OData \
             segments such as $count).",
        ));
    }
    Ok(())
}

/// Whether `id` can be a key: one that every client can put in a URL
/// path segment and get back to the audit.
fn is_usable_key(id: &str) -> bool {
    !id.trim().is_empty()
        && !id.chars().any(char::is_control)
        && id != "."
        && id != ".."
        && !id.starts_with('$')
}

fn parse_date_time(property: Property, value: &Value) -> Result<DateTimeOffset, InputError> {
    let text = value
        .as_str()
        .ok_or_else(|| wrong_type(property, "a string", value))?;

    DateTimeOffset::parse(text).map_err(|reason| {
        InputError::new(format!(
            "Cannot convert the literal '{text}' to the expected type 'Edm.DateTimeOffset' \
             for the property '{}': {reason}.",
            property.name()
        ))
    })
}

/// Reads an enum member under the evolvable-enum rule. `Ok(None)` means the
/// sentinel in an update, which Graph treats as if the property were absent.
fn parse_member(
    property: Property,
    enum_type: &EnumType,
    value: &Value,
    kind: BodyKind,
    include_unknown: bool,
) -> Result<Option<i64>, InputError> {
    let name = property.name();
    let member = value
        .as_str()
        .ok_or_else(|| wrong_type(property, "a string", value))?;

    match enum_type.lookup(member, include_unknown) {
        MemberLookup::Member(value) => Ok(Some(value)),
        MemberLookup::Sentinel if kind == BodyKind::Update => Ok(None),
        MemberLookup::Sentinel => Err(InputError::new(format!(
            "The property '{name}' cannot be 'unknownFutureValue': it is a placeholder for \
             members this client does not know, not a value."
        ))),
        MemberLookup::HiddenMember => Err(InputError::new(format!(
            "The property '{name}': the value '{member}' of enum '{}' is only accepted with \
             the header 'Prefer: include-unknown-enum-members'.",
            enum_type.qualified_name()
        ))),
        MemberLookup::NotFound => Err(InputError::new(format!(
            "The property '{name}': requested value '{member}' was not found in enum '{}'.",
            enum_type.qualified_name()
        ))),
    }
}

fn wrong_type(property: Property, expected: &str, found: &Value) -> InputError {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    InputError::new(format!(
        "The property '{}' must be {expected}, but the request body gave {found}.",
        property.name()
    ))
}

/// The members of a JSON object in body order, duplicates kept so that they
/// can be refused rather than silently resolved.
struct Members(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MembersVisitor)
    }
}

struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Members;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
        let mut members = Vec::new();
        while let Some(entry) = map.next_entry::<String, Value>()? {
            members.push(entry);
        }
        Ok(Members(members))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::enums::{ACTION_STATE, DEVICE_ACTION_CATEGORY};

    fn create(body: &str) -> Result<AuditInput, InputError> {
        AuditInput::parse(body.as_bytes(), BodyKind::Create, false)
    }

    fn message(body: &str) -> String {
        create(body).unwrap_err().message
    }

    #[test]
    fn accepts_the_sdk_example_body() {
        let input = create(
            r#"{"action": "remoteLock", "actionState": "pending",
                "requestDateTime": "2024-01-02T03:04:05+00:00"}"#,
        )
        .unwrap();
        let audit = input.into_new_audit().unwrap();
        assert_eq!(audit.action, 4);
        assert_eq!(audit.action_state, 1);
        assert_eq!(audit.request_date_time.to_string(), "2024-01-02T03:04:05Z");
        assert!(uuid::Uuid::parse_str(&audit.id).is_ok());
    }

    #[test]
    fn every_rejection_names_the_property() {
        let cases = [
            (r#"{"action": 4}"#, "'action' must be a string"),
            (
                r#"{"deviceIMEI": 5}"#,
                "'deviceIMEI' must be a string or null",
            ),
            (r#"{"colour": "red"}"#, "'colour' does not exist"),
            (
                r#"{"action": "FactoryReset"}"#,
                "requested value 'FactoryReset' was not found",
            ),
            (r#"{"actionState": null}"#, "'actionState' cannot be null"),
            (r#"{"action": "delete"}"#, "include-unknown-enum-members"),
            (
                r#"{"action": "unknownFutureValue"}"#,
                "cannot be 'unknownFutureValue'",
            ),
            (
                r#"{"requestDateTime": "2024-01-19T13:38:22.169688"}"#,
                "no time-zone offset",
            ),
            (
                r##"{"@odata.type": "#microsoft.graph.user"}"##,
                "'@odata.type'",
            ),
            (
                r#"{"userName": "a", "userName": "b"}"#,
                "appears more than once",
            ),
            (r#"{"id": ""}"#, "visible characters"),
            (r#"{"id": "  "}"#, "visible characters"),
            (r#"{"id": ".."}"#, "'..'"),
            (r#"{"id": "$count"}"#, "'$'"),
            (r#"{"x@odata.bind": "y"}"#, "'x' does not exist"),
            ("[1, 2]", "expected a JSON object"),
            ("{", "not valid"),
        ];
        for (body, expected) in cases {
            let text = message(body);
            assert!(text.contains(expected), "{body}: {text}");
        }
    }

    #[test]
    fn the_sentinel_in_an_update_is_ignored() {
        let body = br#"{"action": "unknownFutureValue", "deviceIMEI": null}"#;
        let input = AuditInput::parse(body, BodyKind::Update, false).unwrap();
        assert_eq!(input.action, None);
        assert_eq!(input.device_imei, Some(None));
    }

    #[test]
    fn annotations_are_ignored() {
        let body = r#"{"@odata.context": "x", "action@odata.type": "y", "action": "rebootNow"}"#;
        assert_eq!(create(body).unwrap().action, Some(8));
    }

    #[test]
    fn creating_requires_an_action() {
        let error = create("{}").unwrap().into_new_audit().unwrap_err();
        assert!(error.message.contains("'action' is required"));
    }

    #[test]
    fn state_and_category_are_checked_too() {
        assert!(message(r#"{"actionState": "Done"}"#).contains(ACTION_STATE.name));
        assert!(
            message(r#"{"deviceActionCategory": "many"}"#).contains(DEVICE_ACTION_CATEGORY.name)
        );
    }
}
