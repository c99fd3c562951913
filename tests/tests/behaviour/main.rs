//! Every behaviour, on SQLite, PostgreSQL and MySQL, from one test body each.

mod concurrency;
mod eager;
mod graphs;
mod integrity;
mod json;
mod keys;
mod legacy;
mod model;
mod models;
mod naming;
mod query;
mod relation;
mod schema;
mod through;
mod transactions;
