pub mod card;
pub mod chips;
pub mod connection;
pub mod create_dialog;
pub mod overlaps;
pub mod sidebar;
