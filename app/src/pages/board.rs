//! The kanban board: WORKING, WAITING and DONE, each card where its status reason puts it.

use crate::components::card::Card;
use crate::live::Live;
use ff_core::enums::KanbanColumn;
use leptos::prelude::*;

const COLUMNS: [(KanbanColumn, &str, &str); 3] = [
    (
        KanbanColumn::Working,
        "Working",
        "Agents and automation at work",
    ),
    (
        KanbanColumn::Waiting,
        "Waiting on you",
        "Needs your input or review",
    ),
    (KanbanColumn::Done, "Done", "PR merged or closed"),
];

#[component]
pub fn Board(live: Live) -> impl IntoView {
    view! {
        <div class="board">
            {COLUMNS.into_iter().map(|(column, title, hint)| {
                let cards = Memo::new(move |_| {
                    live.entries.with(|all| all.iter().filter(|e| e.derived.kanban_column == Some(column)).cloned().collect::<Vec<_>>())
                });
                view! {
                    <section class="column" data-testid="column" data-column=column.to_string() aria-label=title>
                        <h2>
                            {title}
                            <span class="count" data-testid="count">{move || cards.with(Vec::len)}</span>
                        </h2>
                        <p class="hint">{hint}</p>
                        <div class="cards">
                            <For
                                each=move || cards.get()
                                key=|e| (e.workspace_id.clone(), e.version)
                                children=move |e| {
                                    let attention = live.cache.with_untracked(|c| c.needs_attention(&e.workspace_id));
                                    view! { <Card entry=e attention /> }
                                }
                            />
                        </div>
                    </section>
                }
            }).collect_view()}
        </div>
    }
}
