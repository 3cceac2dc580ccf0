//! A terminal in the workspace's worktree: xterm.js (with its fit and web-links addons, bundled
//! into `/pkg/xterm/` by scripts/build.sh and loaded on first use) over `/ws/terminals/{id}`.
//! The page attaches to the workspace's first open terminal, so a reload shows its scrollback.
//! Self-contained: a panel may hold it as one of its tabs.

use ff_core::ids::{TerminalId, WorkspaceId};
use leptos::html::Div;
use leptos::prelude::*;

#[component]
pub fn Terminal(workspace: WorkspaceId) -> impl IntoView {
    let screen = NodeRef::<Div>::new();
    let current = RwSignal::new(None::<TerminalId>);
    let message = RwSignal::new(String::new());
    // Clicks, counted: the browser side acts on each new one.
    let opening = RwSignal::new(0u32);
    let closing = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    browser::start(browser::Parts {
        workspace,
        screen,
        current,
        message,
        opening,
        closing,
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = workspace;
    view! {
        <section class="terminal-panel" data-testid="terminal">
            <h2>"Terminal"</h2>
            <div class="actions">
                <button type="button" class="button" data-testid="terminal-new"
                    on:click=move |_| opening.update(|n| *n += 1)>"New terminal"</button>
                <button type="button" class="button secondary" data-testid="terminal-close"
                    disabled=move || current.with(Option::is_none)
                    on:click=move |_| closing.update(|n| *n += 1)>"Close"</button>
                <span class="muted" role="status" data-testid="terminal-message">{move || message.get()}</span>
            </div>
            <div class="terminal-screen" node_ref=screen data-testid="terminal-screen"></div>
        </section>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use super::*;
    use crate::api;
    use ff_core::terminals::{Control, OpenTerminal, TerminalInfo, MAX_INPUT_FRAME};
    use js_sys::{Array, Function, Object, Reflect, Uint8Array};
    use leptos::task::spawn_local;
    use send_wrapper::SendWrapper;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

    /// The bundled files, in load order, each with the global it defines.
    const SCRIPTS: [(&str, &str); 3] = [
        ("/pkg/xterm/xterm.js", "Terminal"),
        ("/pkg/xterm/addon-fit.js", "FitAddon"),
        ("/pkg/xterm/addon-web-links.js", "WebLinksAddon"),
    ];
    const STYLESHEET: &str = "/pkg/xterm/xterm.css";
    /// The server ended the terminal (1000) or the login (1008): no reconnect.
    const ENDED: u16 = 1000;
    const LOGGED_OUT: u16 = 1008;

    #[wasm_bindgen]
    extern "C" {
        type XTerm;
        #[wasm_bindgen(method, js_name = loadAddon)]
        fn load_addon(this: &XTerm, addon: &JsValue);
        #[wasm_bindgen(method)]
        fn open(this: &XTerm, parent: &web_sys::HtmlElement);
        #[wasm_bindgen(method)]
        fn write(this: &XTerm, data: &Uint8Array);
        #[wasm_bindgen(method)]
        fn reset(this: &XTerm);
        #[wasm_bindgen(method)]
        fn focus(this: &XTerm);
        #[wasm_bindgen(method)]
        fn dispose(this: &XTerm);
        #[wasm_bindgen(method, getter)]
        fn cols(this: &XTerm) -> u16;
        #[wasm_bindgen(method, getter)]
        fn rows(this: &XTerm) -> u16;
        #[wasm_bindgen(method, js_name = onData)]
        fn on_data(this: &XTerm, listener: &Function);
        #[wasm_bindgen(method, js_name = onResize)]
        fn on_resize(this: &XTerm, listener: &Function);

        type FitAddon;
        #[wasm_bindgen(method)]
        fn fit(this: &FitAddon);
    }

    pub struct Parts {
        pub workspace: WorkspaceId,
        pub screen: NodeRef<Div>,
        pub current: RwSignal<Option<TerminalId>>,
        pub message: RwSignal<String>,
        pub opening: RwSignal<u32>,
        pub closing: RwSignal<u32>,
    }

    /// The screen and its socket, while the component is mounted.
    struct Shown {
        term: XTerm,
        fit: FitAddon,
        socket: Option<WebSocket>,
        /// Listeners kept alive as long as what calls them.
        socket_listeners: Vec<Closure<dyn FnMut(JsValue)>>,
        screen_listeners: Vec<Closure<dyn FnMut(JsValue)>>,
        /// The window's resize listener, removed with the screen.
        refit: Closure<dyn FnMut(JsValue)>,
    }

    type Shared = Rc<RefCell<Option<Shown>>>;

    pub fn start(parts: Parts) {
        let shown: Shared = Rc::new(RefCell::new(None));
        let parts = Rc::new(parts);
        let cleanup = SendWrapper::new(shown.clone());
        on_cleanup(move || {
            if let Some(mut gone) = cleanup.take().borrow_mut().take() {
                detach(&mut gone);
                let Shown {
                    term,
                    screen_listeners,
                    refit,
                    ..
                } = gone;
                if let Some(window) = web_sys::window() {
                    let _ = window.remove_event_listener_with_callback(
                        "resize",
                        refit.as_ref().unchecked_ref(),
                    );
                }
                // Its listeners go after it, so that nothing calls a dropped one.
                term.dispose();
                drop(screen_listeners);
            }
        });
        {
            let (shown, parts) = (shown.clone(), parts.clone());
            Effect::new(move |started: Option<bool>| {
                if started == Some(true) {
                    return true;
                }
                let Some(element) = parts.screen.get() else {
                    return false;
                };
                let (shown, parts) = (shown.clone(), parts.clone());
                spawn_local(async move {
                    if let Err(e) = show(&shown, &parts, element.into()).await {
                        parts.message.set(e);
                    }
                });
                true
            });
        }
        {
            let (shown, parts) = (shown.clone(), parts.clone());
            Effect::new(move |_| {
                if parts.opening.get() == 0 {
                    return;
                }
                let (shown, parts) = (shown.clone(), parts.clone());
                spawn_local(async move { open_new(&shown, &parts).await });
            });
        }
        Effect::new(move |_| {
            if parts.closing.get() == 0 {
                return;
            }
            let Some(id) = parts.current.get_untracked() else {
                return;
            };
            let message = parts.message;
            spawn_local(async move {
                if let Err(e) = api::delete(format!("/api/terminals/{id}")).await {
                    message.set(e);
                }
            });
        });
    }

    /// Loads xterm.js, draws the screen and attaches to the workspace's first terminal.
    async fn show(
        shown: &Shared,
        parts: &Rc<Parts>,
        element: web_sys::HtmlElement,
    ) -> Result<(), String> {
        load_xterm().await?;
        let options = Object::new();
        let _ = Reflect::set(&options, &"cursorBlink".into(), &true.into());
        let _ = Reflect::set(&options, &"fontSize".into(), &13.into());
        let _ = Reflect::set(&options, &"scrollback".into(), &5000.into());
        let term: XTerm = construct(&["Terminal"], &Array::of1(&options))?.unchecked_into();
        let fit: FitAddon = construct(&["FitAddon", "FitAddon"], &Array::new())?.unchecked_into();
        term.load_addon(&fit);
        term.load_addon(&construct(
            &["WebLinksAddon", "WebLinksAddon"],
            &Array::new(),
        )?);
        term.open(&element);
        fit.fit();
        let mut screen_listeners = Vec::new();
        {
            let shown = shown.clone();
            let typed = Closure::<dyn FnMut(JsValue)>::new(move |data: JsValue| {
                let text = data.as_string().unwrap_or_default();
                send_input(&shown, text.as_bytes());
            });
            term.on_data(typed.as_ref().unchecked_ref());
            screen_listeners.push(typed);
        }
        {
            let shown = shown.clone();
            let resized = Closure::<dyn FnMut(JsValue)>::new(move |_| {
                let borrowed = shown.borrow();
                let Some(view) = borrowed.as_ref() else {
                    return;
                };
                let control = Control::Resize {
                    cols: view.term.cols(),
                    rows: view.term.rows(),
                };
                if let (Some(socket), Ok(text)) = (&view.socket, serde_json::to_string(&control)) {
                    let _ = socket.send_with_str(&text);
                }
            });
            term.on_resize(resized.as_ref().unchecked_ref());
            screen_listeners.push(resized);
        }
        let refit = {
            let shown = shown.clone();
            let refit = Closure::<dyn FnMut(JsValue)>::new(move |_| {
                if let Some(view) = shown.borrow().as_ref() {
                    view.fit.fit();
                }
            });
            if let Some(window) = web_sys::window() {
                let _ = window
                    .add_event_listener_with_callback("resize", refit.as_ref().unchecked_ref());
            }
            refit
        };
        *shown.borrow_mut() = Some(Shown {
            term,
            fit,
            socket: None,
            socket_listeners: Vec::new(),
            screen_listeners,
            refit,
        });
        let open: Vec<TerminalInfo> =
            api::get_json(format!("/api/workspaces/{}/terminals", parts.workspace)).await?;
        match open.into_iter().next() {
            Some(first) => attach(shown, parts, first.id),
            None => parts
                .message
                .set("No terminal is open in this workspace.".to_owned()),
        }
        Ok(())
    }

    async fn open_new(shown: &Shared, parts: &Rc<Parts>) {
        let size = shown
            .borrow()
            .as_ref()
            .map(|v| (v.term.cols(), v.term.rows()));
        let Some((cols, rows)) = size else {
            return parts
                .message
                .set("The terminal is still loading.".to_owned());
        };
        let request = OpenTerminal {
            cols: Some(cols),
            rows: Some(rows),
        };
        let path = format!("/api/workspaces/{}/terminals", parts.workspace);
        match api::send_json::<_, TerminalInfo>("POST", path, &request).await {
            Ok(opened) => attach(shown, parts, opened.id),
            Err(e) => parts.message.set(e),
        }
    }

    /// Watches terminal `id` on the screen: its scrollback, then its output, reconnecting
    /// until it ends.
    fn attach(shown: &Shared, parts: &Rc<Parts>, id: TerminalId) {
        let mut borrowed = shown.borrow_mut();
        let Some(view) = borrowed.as_mut() else {
            return;
        };
        detach(view);
        // The scrollback comes whole with every connection.
        view.term.reset();
        parts.current.set(Some(id.clone()));
        parts.message.set(String::new());
        let Ok(socket) = WebSocket::new(&crate::socket::url(&format!("/ws/terminals/{id}"))) else {
            return parts
                .message
                .set("The terminal's socket cannot be opened.".to_owned());
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let received = {
            let shown = shown.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let event: MessageEvent = event.unchecked_into();
                if let Some(view) = shown.borrow().as_ref() {
                    view.term.write(&Uint8Array::new(&event.data()));
                }
            })
        };
        let closed = {
            let (shown, parts) = (shown.clone(), parts.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |event: JsValue| {
                let event: CloseEvent = event.unchecked_into();
                closed(&shown, &parts, &id, event.code(), event.reason());
            })
        };
        socket.set_onmessage(Some(received.as_ref().unchecked_ref()));
        socket.set_onclose(Some(closed.as_ref().unchecked_ref()));
        view.socket = Some(socket);
        view.socket_listeners = vec![received, closed];
        view.term.focus();
    }

    fn closed(shown: &Shared, parts: &Rc<Parts>, id: &TerminalId, code: u16, reason: String) {
        if parts.current.get_untracked().as_ref() != Some(id) {
            return;
        }
        match code {
            ENDED => {
                parts.current.set(None);
                parts.message.set(format!("The terminal ended ({reason})."));
            }
            LOGGED_OUT => api::logged_out(),
            // Fell behind, or the connection dropped: the scrollback makes up for it.
            _ => {
                parts.message.set("Reconnecting…".to_owned());
                let (shown, parts, id) = (shown.clone(), parts.clone(), id.clone());
                spawn_local(async move {
                    gloo_timers::future::sleep(std::time::Duration::from_secs(1)).await;
                    if parts.current.get_untracked().as_ref() == Some(&id) {
                        attach(&shown, &parts, id);
                    }
                });
            }
        }
    }

    fn detach(view: &mut Shown) {
        if let Some(socket) = view.socket.take() {
            socket.set_onmessage(None);
            socket.set_onclose(None);
            let _ = socket.close();
        }
        view.socket_listeners.clear();
    }

    /// Keystrokes and pastes, in frames the server accepts.
    fn send_input(shown: &Shared, bytes: &[u8]) {
        let borrowed = shown.borrow();
        let Some(socket) = borrowed.as_ref().and_then(|v| v.socket.as_ref()) else {
            return;
        };
        if socket.ready_state() != WebSocket::OPEN {
            return;
        }
        for chunk in bytes.chunks(MAX_INPUT_FRAME) {
            let _ = socket.send_with_u8_array(chunk);
        }
    }

    /// `new Global.Path(...args)` for a class the bundled scripts define.
    fn construct(path: &[&str], args: &Array) -> Result<JsValue, String> {
        let mut class: JsValue = js_sys::global().into();
        for name in path {
            class = Reflect::get(&class, &(*name).into()).map_err(|_| missing(name))?;
        }
        let class: Function = class.dyn_into().map_err(|_| missing(path[0]))?;
        Reflect::construct(&class, args).map_err(|e| format!("xterm.js failed to start: {e:?}"))
    }

    fn missing(name: &str) -> String {
        format!("xterm.js did not load ({name} is missing): rebuild with scripts/build.sh")
    }

    /// Adds the stylesheet and the scripts once; resolves when every script has run.
    async fn load_xterm() -> Result<(), String> {
        let document = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let head = document.head().ok_or("no document head")?;
        if document
            .query_selector(&format!("link[href='{STYLESHEET}']"))
            .ok()
            .flatten()
            .is_none()
        {
            let link = document
                .create_element("link")
                .map_err(|e| format!("{e:?}"))?;
            let _ = link.set_attribute("rel", "stylesheet");
            let _ = link.set_attribute("href", STYLESHEET);
            let _ = head.append_child(&link);
        }
        for (src, global) in SCRIPTS {
            if Reflect::has(&js_sys::global(), &global.into()).unwrap_or(false) {
                continue;
            }
            let script: web_sys::HtmlScriptElement = document
                .create_element("script")
                .map_err(|e| format!("{e:?}"))?
                .unchecked_into();
            script.set_src(src);
            let loaded = js_sys::Promise::new(&mut |resolve, reject| {
                script.set_onload(Some(&resolve));
                script.set_onerror(Some(&reject));
            });
            let _ = head.append_child(&script);
            JsFuture::from(loaded)
                .await
                .map_err(|_| format!("{src} did not load: rebuild with scripts/build.sh"))?;
        }
        Ok(())
    }
}
