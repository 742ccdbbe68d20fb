//! What a query's values can be: the [`Value`] each engine binds, and the [`Bind`] impls that
//! turn the domain's types (words, times, ids) into one.

use chrono::{DateTime, Utc};

/// A value to bind. Each engine encodes it its own way (a time is fixed-width text in SQLite,
/// `timestamptz` elsewhere); a NULL keeps its type, which stricter engines need.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Time(Option<DateTime<Utc>>),
}

/// What can be bound to a query.
pub trait Bind {
    fn into_value(self) -> Value;
    /// The NULL of this type, for `None`.
    fn null() -> Value
    where
        Self: Sized;
}

macro_rules! bind_as {
    ($variant:ident: $($t:ty => |$v:ident| $e:expr),+ $(,)?) => {$(
        impl Bind for $t {
            fn into_value(self) -> Value {
                let $v = self;
                Value::$variant(Some($e))
            }
            fn null() -> Value {
                Value::$variant(None)
            }
        }
    )+};
}

bind_as!(Text: &str => |v| v.to_string(), String => |v| v, &String => |v| v.clone());
bind_as!(Int: i64 => |v| v, i32 => |v| i64::from(v), u32 => |v| i64::from(v));
bind_as!(Int: usize => |v| i64::try_from(v).unwrap_or(i64::MAX));
bind_as!(Bool: bool => |v| v);
bind_as!(Time: DateTime<Utc> => |v| v, &DateTime<Utc> => |v| *v);

/// The domain's closed vocabularies are stored as their snake_case words.
macro_rules! bind_words {
    ($($t:ty),+ $(,)?) => {
        bind_as!(Text: $($t => |v| v.as_str().to_string()),+);
    };
}

bind_words!(
    model::ActionStatus,
    model::ActionType,
    model::ActionSource,
    model::ClusterBy,
    model::IncidentStatus,
    model::IndicatorKind,
    model::InvestigationStatus,
    model::InvestigationType,
    model::MessageLocation,
    model::MessageResult,
    model::Role,
    model::Severity,
    model::Verdict,
);

impl<T: Bind> Bind for Option<T> {
    fn into_value(self) -> Value {
        match self {
            Some(value) => value.into_value(),
            None => T::null(),
        }
    }
    fn null() -> Value {
        T::null()
    }
}

impl Bind for &Option<String> {
    fn into_value(self) -> Value {
        self.as_deref().into_value()
    }
    fn null() -> Value {
        Value::Text(None)
    }
}

impl Bind for &Option<DateTime<Utc>> {
    fn into_value(self) -> Value {
        Value::Time(*self)
    }
    fn null() -> Value {
        Value::Time(None)
    }
}

impl Bind for Value {
    fn into_value(self) -> Value {
        self
    }
    fn null() -> Value {
        Value::Text(None)
    }
}
