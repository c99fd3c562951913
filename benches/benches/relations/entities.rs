//! The same three tables as SeaORM entities: `Assembly`, `Part` and the junction
//! `AssemblyPart`, with the many-to-many relation declared through the junction.

pub mod assembly {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "Assembly")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl Related<super::part::Entity> for Entity {
        fn to() -> RelationDef {
            super::assembly_part::Relation::Part.def()
        }

        fn via() -> Option<RelationDef> {
            Some(super::assembly_part::Relation::Assembly.def().rev())
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod part {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "Part")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub part_number: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl Related<super::assembly::Entity> for Entity {
        fn to() -> RelationDef {
            super::assembly_part::Relation::Assembly.def()
        }

        fn via() -> Option<RelationDef> {
            Some(super::assembly_part::Relation::Part.def().rev())
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod assembly_part {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "AssemblyPart")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub assembly_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub part_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::assembly::Entity",
            from = "Column::AssemblyId",
            to = "super::assembly::Column::Id",
            on_delete = "Cascade"
        )]
        Assembly,
        #[sea_orm(
            belongs_to = "super::part::Entity",
            from = "Column::PartId",
            to = "super::part::Column::Id",
            on_delete = "Cascade"
        )]
        Part,
    }

    impl ActiveModelBehavior for ActiveModel {}
}
