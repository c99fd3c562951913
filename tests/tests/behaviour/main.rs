//! Every behaviour, on SQLite, PostgreSQL and MySQL, from one test body each.

mod model;
mod models;
mod naming;
mod relation;
mod schema;
mod transactions;
