//! The domain: the `remoteActionAudit` entity, its enums and properties, and
//! the rules that turn untrusted input into valid values.

pub mod audit;
pub mod date_time;
pub mod enums;
pub mod input;
pub mod property;

pub use audit::{ODATA_TYPE, PropertyValue, RemoteActionAudit, Rendering, StoredAudit};
pub use date_time::DateTimeOffset;
pub use enums::{EnumType, MemberLookup};
pub use input::{AuditInput, BodyKind, InputError};
pub use property::{Property, PropertyType, fold_case};
