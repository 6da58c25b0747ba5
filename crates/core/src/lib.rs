//! openlift's domain layer: the records the control plane keeps, how their IDs and
//! ARNs are formed (`control-plane-api.md` section 7.1), and the rules that govern
//! them. Nothing here knows about HTTP or SQL.

pub mod alias;
pub mod arn;
pub mod clock;
pub mod fleet;
pub mod game_session;
pub mod ids;
pub mod paging;
pub mod records;
pub mod search;
pub mod tags;
