//! The `remoteActionAudit` entity and its JSON representation.

use serde_json::{Map, Value};

use super::date_time::DateTimeOffset;
use super::enums::{ACTION_STATE, DEVICE_ACTION_CATEGORY, EnumType, REMOTE_ACTION};
use super::property::Property;

/// The OData type annotation every audit carries in responses.
pub const ODATA_TYPE: &str = "#microsoft.graph.remoteActionAudit";

/// A report of one remote action initiated on a device.
///
/// Enum-typed properties hold the member's numeric value; the values are
/// checked against their enum type when the entity is built from input or
/// read back from storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteActionAudit {
    pub id: String,
    pub device_display_name: Option<String>,
    pub user_name: Option<String>,
    pub initiated_by_user_principal_name: Option<String>,
    pub action: i64,
    pub request_date_time: DateTimeOffset,
    pub device_owner_user_principal_name: Option<String>,
    pub device_imei: Option<String>,
    pub action_state: i64,
    pub managed_device_id: Option<String>,
    pub bulk_device_action_id: Option<String>,
    pub device_action_category: i64,
}

/// A stored audit with the bookkeeping storage keeps beside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAudit {
    pub audit: RemoteActionAudit,
    /// Starts at 1 and grows by one with every update: the entity tag.
    pub version: i64,
}

/// Options that shape how an audit is written out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rendering<'a> {
    /// `$select`: only these properties (all when `None`).
    pub select: Option<&'a [Property]>,
    /// `Prefer: include-unknown-enum-members` was sent.
    pub include_unknown_enum_members: bool,
}

/// A property value as the entity holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PropertyValue<'a> {
    Null,
    String(&'a str),
    Enum(&'static EnumType, i64),
    DateTimeOffset(DateTimeOffset),
}

impl RemoteActionAudit {
    /// The value of one property.
    pub fn value(&self, property: Property) -> PropertyValue<'_> {
        match property {
            Property::Id => PropertyValue::String(&self.id),
            Property::DeviceDisplayName => optional(&self.device_display_name),
            Property::UserName => optional(&self.user_name),
            Property::InitiatedByUserPrincipalName => {
                optional(&self.initiated_by_user_principal_name)
            }
            Property::Action => PropertyValue::Enum(&REMOTE_ACTION, self.action),
            Property::RequestDateTime => PropertyValue::DateTimeOffset(self.request_date_time),
            Property::DeviceOwnerUserPrincipalName => {
                optional(&self.device_owner_user_principal_name)
            }
            Property::DeviceImei => optional(&self.device_imei),
            Property::ActionState => PropertyValue::Enum(&ACTION_STATE, self.action_state),
            Property::ManagedDeviceId => optional(&self.managed_device_id),
            Property::BulkDeviceActionId => optional(&self.bulk_device_action_id),
            Property::DeviceActionCategory => {
                PropertyValue::Enum(&DEVICE_ACTION_CATEGORY, self.device_action_category)
            }
        }
    }

    /// The entity as a JSON object, `@odata.type` first.
    pub fn to_json(&self, rendering: Rendering<'_>) -> Map<String, Value> {
        let mut object = Map::new();
        object.insert("@odata.type".into(), Value::from(ODATA_TYPE));

        for property in Property::ALL {
            let selected = rendering.select.is_none_or(|s| s.contains(&property));
            if selected {
                let value = self.json_value(property, rendering.include_unknown_enum_members);
                object.insert(property.name().into(), value);
            }
        }
        object
    }

    fn json_value(&self, property: Property, include_unknown: bool) -> Value {
        match self.value(property) {
            PropertyValue::Null => Value::Null,
            PropertyValue::String(text) => Value::from(text),
            PropertyValue::DateTimeOffset(instant) => Value::from(instant.to_string()),
            PropertyValue::Enum(enum_type, value) => {
                Value::from(enum_type.render(value, include_unknown))
            }
        }
    }
}

fn optional(value: &Option<String>) -> PropertyValue<'_> {
    value
        .as_deref()
        .map_or(PropertyValue::Null, PropertyValue::String)
}
