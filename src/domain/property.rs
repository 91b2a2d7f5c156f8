//! The structural properties of `microsoft.graph.remoteActionAudit`.
//!
//! One table drives JSON parsing, JSON output, `$select`, `$orderby`,
//! `$filter` type checking and the storage columns, so they cannot drift.

use super::enums::{ACTION_STATE, DEVICE_ACTION_CATEGORY, EnumType, REMOTE_ACTION};

/// The Edm type of a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    String,
    DateTimeOffset,
    Enum(&'static EnumType),
}

/// A property of `remoteActionAudit`, `id` included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Property {
    Id,
    DeviceDisplayName,
    UserName,
    InitiatedByUserPrincipalName,
    Action,
    RequestDateTime,
    DeviceOwnerUserPrincipalName,
    DeviceImei,
    ActionState,
    ManagedDeviceId,
    BulkDeviceActionId,
    DeviceActionCategory,
}

impl Property {
    /// Every property, in the order Graph writes them.
    pub const ALL: [Property; 12] = [
        Property::Id,
        Property::DeviceDisplayName,
        Property::UserName,
        Property::InitiatedByUserPrincipalName,
        Property::Action,
        Property::RequestDateTime,
        Property::DeviceOwnerUserPrincipalName,
        Property::DeviceImei,
        Property::ActionState,
        Property::ManagedDeviceId,
        Property::BulkDeviceActionId,
        Property::DeviceActionCategory,
    ];

    /// The property's name in JSON and in OData expressions.
    pub fn name(self) -> &'static str {
        match self {
            Property::Id => "id",
            Property::DeviceDisplayName => "deviceDisplayName",
            Property::UserName => "userName",
            Property::InitiatedByUserPrincipalName => "initiatedByUserPrincipalName",
            Property::Action => "action",
            Property::RequestDateTime => "requestDateTime",
            Property::DeviceOwnerUserPrincipalName => "deviceOwnerUserPrincipalName",
            Property::DeviceImei => "deviceIMEI",
            Property::ActionState => "actionState",
            Property::ManagedDeviceId => "managedDeviceId",
            Property::BulkDeviceActionId => "bulkDeviceActionId",
            Property::DeviceActionCategory => "deviceActionCategory",
        }
    }

    /// Finds a property by its exact, case-sensitive name.
    pub fn from_name(name: &str) -> Option<Property> {
        Property::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn edm_type(self) -> PropertyType {
        match self {
            Property::Action => PropertyType::Enum(&REMOTE_ACTION),
            Property::ActionState => PropertyType::Enum(&ACTION_STATE),
            Property::DeviceActionCategory => PropertyType::Enum(&DEVICE_ACTION_CATEGORY),
            Property::RequestDateTime => PropertyType::DateTimeOffset,
            _ => PropertyType::String,
        }
    }

    /// Whether the schema allows `null` for this property.
    pub fn is_nullable(self) -> bool {
        !matches!(
            self,
            Property::Id
                | Property::Action
                | Property::RequestDateTime
                | Property::ActionState
                | Property::DeviceActionCategory
        )
    }

    /// The storage column that holds the value. Enums hold their numeric
    /// value and `requestDateTime` holds ticks, so SQL orders them right.
    pub fn column(self) -> &'static str {
        match self {
            Property::Id => "id",
            Property::DeviceDisplayName => "device_display_name",
            Property::UserName => "user_name",
            Property::InitiatedByUserPrincipalName => "initiated_by_upn",
            Property::Action => "action",
            Property::RequestDateTime => "request_ticks",
            Property::DeviceOwnerUserPrincipalName => "device_owner_upn",
            Property::DeviceImei => "device_imei",
            Property::ActionState => "action_state",
            Property::ManagedDeviceId => "managed_device_id",
            Property::BulkDeviceActionId => "bulk_device_action_id",
            Property::DeviceActionCategory => "device_action_category",
        }
    }

    /// The column that holds the lower-cased copy of a string property,
    /// used for Graph's case-insensitive comparisons and ordering.
    pub fn folded_column(self) -> Option<&'static str> {
        match self {
            Property::Id => Some("id_folded"),
            Property::DeviceDisplayName => Some("device_display_name_folded"),
            Property::UserName => Some("user_name_folded"),
            Property::InitiatedByUserPrincipalName => Some("initiated_by_upn_folded"),
            Property::DeviceOwnerUserPrincipalName => Some("device_owner_upn_folded"),
            Property::DeviceImei => Some("device_imei_folded"),
            Property::ManagedDeviceId => Some("managed_device_id_folded"),
            Property::BulkDeviceActionId => Some("bulk_device_action_id_folded"),
            _ => None,
        }
    }
}

/// Folds a string for case-insensitive comparison, the same way on every
/// store, computed here rather than by the database: each character to its
/// simple lower case, with no regard to context (like .NET's
/// `ToLowerInvariant`), so that a fold of a prefix is a prefix of the fold.
/// Full Unicode lower-casing would not do: it turns a word-final `Σ` into
/// `ς` but a medial one into `σ`, and `İ` into two characters.
pub fn fold_case(text: &str) -> String {
    text.chars()
        .map(|c| c.to_lowercase().next().unwrap_or(c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for property in Property::ALL {
            assert_eq!(Property::from_name(property.name()), Some(property));
        }
        assert_eq!(Property::from_name("DeviceIMEI"), None);
    }

    #[test]
    fn folding_is_per_character() {
        assert_eq!(fold_case("ΟΔΟΣΟΣ"), "οδοσοσ");
        assert_eq!(fold_case("ΟΔΟΣ ΑΘΗΝΑ"), "οδοσ αθηνα");
        assert_eq!(fold_case("İSTANBUL"), "istanbul");
        assert_eq!(fold_case("DESKTOP-Zoë"), "desktop-zoë");
        assert!(fold_case("ΟΔΟΣΟΣ").starts_with(&fold_case("ΟΔΟΣ")));
    }

    #[test]
    fn every_string_property_has_a_folded_column() {
        for property in Property::ALL {
            let is_string = property.edm_type() == PropertyType::String;
            assert_eq!(
                property.folded_column().is_some(),
                is_string,
                "{property:?}"
            );
        }
    }
}
