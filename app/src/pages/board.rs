//! The kanban board: WORKING, WAITING and DONE, each card where its status reason puts it.

use crate::components::card::Card;
use crate::live::Live;
use ff_core::derive::ColumnCounts;
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
    // On a phone the board shows one column at a time: the one picked (what waits on you first).
    let picked = RwSignal::new(KanbanColumn::Waiting);
    let counts = Memo::new(move |_| live.entries.with(|all| ColumnCounts::of(all)));
    let count = move |column: KanbanColumn| {
        counts.with(|c| match column {
            KanbanColumn::Working => c.working,
            KanbanColumn::Waiting => c.waiting,
            KanbanColumn::Done => c.done,
        })
    };
    view! {
        <div class="column-picker" role="group" aria-label="Column shown">
            {COLUMNS.into_iter().map(|(column, title, _)| view! {
                <button type="button" data-testid="column-pick" data-column=column.to_string()
                    aria-pressed=move || (picked.get() == column).to_string()
                    on:click=move |_| picked.set(column)>
                    {title} " " <span class="count">{move || count(column)}</span>
                </button>
            }).collect_view()}
        </div>
        <div class="board">
            {COLUMNS.into_iter().map(|(column, title, hint)| {
                let cards = Memo::new(move |_| {
                    live.entries.with(|all| all.iter().filter(|e| e.derived.kanban_column == Some(column)).cloned().collect::<Vec<_>>())
                });
                view! {
                    <section class="column" class:picked=move || picked.get() == column data-testid="column" data-column=column.to_string() aria-label=title>
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
