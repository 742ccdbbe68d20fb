//! Turning server-side failures into the errors a caller may see: the cause goes to the log,
//! only the kind of failure leaves the server.

use crate::model::AppError;

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::RowNotFound => AppError::NotFound("record".into()),
            other => {
                tracing::error!(error = ?other, "database error");
                AppError::Internal
            }
        }
    }
}

/// Whether a database error is a unique-constraint violation. Callers use it only around a
/// statement that can violate exactly one unique constraint, so the kind is enough: SQLite
/// does not report constraint names, and we never match on error text.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}
