//! Every behaviour, on SQLite, PostgreSQL and MySQL, from one test body each.

mod models;
mod relation;
