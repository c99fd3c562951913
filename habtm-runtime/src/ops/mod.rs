//! The operations, generic over [`Model`](crate::Model) and
//! [`Relation`](crate::Relation): each runs statements with its transactions and retries.

pub(crate) mod model;
pub(crate) mod relation;
