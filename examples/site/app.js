// The live scoreboard. `c10k serve --demo` publishes each play of a simulated Koshien final to
// the push channel `score`; this page subscribes once and renders every message as it arrives,
// where the 2007 readers reloaded the page every 5 s (reload.html still does that, for the
// comparison).
//
// Transports, in order of preference:
//   0. WebSocket on /live/score. Each message is a JSON envelope
//      {"channel":"score","id":"...","data":"<the score>"}; the page resumes after a drop with
//      ?last_event_id=<id>, and a `history-lost` event means start over, as for EventSource.
//      When it fails several times without ever opening (a proxy that refuses Upgrade), the
//      page falls back to EventSource.
//   1. EventSource on /live/score (Server-Sent Events). The browser resumes with Last-Event-ID
//      after a drop; an event named `history-lost` means the server no longer holds what we
//      missed, so we start over and take the current score.
//   2. Long-poll on /live/score, when EventSource is missing or fails several times without
//      ever opening (a proxy that buffers or refuses streams): GET with Last-Event-ID, 200 with
//      the message and ETag "<id>", or 304 after the server's wait; then ask again.
//   3. Reloading score.json every 5 s, when the server has no live channel at all (a plain
//      `c10k serve`), or on reload.html.
// `?transport=long-poll` (or `websocket`, `eventsource`, `reload`) forces one, for tests and
// comparisons.
'use strict';

(() => {
    const CHANNEL_URL = '/live/score';
    const SCORE_FILE = 'score.json';
    // How many EventSource failures, without one successful open, before long-poll.
    const EVENTSOURCE_ATTEMPTS = 3;
    // Likewise for WebSocket, before EventSource.
    const WEBSOCKET_ATTEMPTS = 2;
    const RELOAD_INTERVAL_MS = 5000;
    // A long-poll the server has not answered in this long is abandoned and sent again: the
    // server answers 304 after its own wait (30 s by default), so only a lost request or a
    // stuck intermediary gets here.
    const LONG_POLL_ABANDON_MS = 75000;
    const REGULATION_INNINGS = 9;

    const $ = (id) => document.getElementById(id);
    const connection = $('connection');
    const updated = $('updated');

    let lastText = null;  // the last message rendered, to skip repeats
    let lastId = null;    // the id of the last message received, for long-poll resumes

    // ---- rendering ----------------------------------------------------------------------

    function ordinal(n) {
        const tens = n % 100;
        if (tens >= 11 && tens <= 13) return `${n}th`;
        return n + ({1: 'st', 2: 'nd', 3: 'rd'}[n % 10] || 'th');
    }

    function runnersText(bases) {
        const names = ['first', 'second', 'third'].filter((_, i) => bases[i]);
        if (names.length === 0) return 'bases empty';
        if (names.length === 3) return 'bases loaded';
        if (names.length === 1) return `runner on ${names[0]}`;
        return `runners on ${names[0]} and ${names[1]}`;
    }

    function situationText(score) {
        if (score.status === 'final') {
            return score.inning > REGULATION_INNINGS ? `Final, ${score.inning} innings` : 'Final';
        }
        const half = score.half === 'top' ? 'Top' : 'Bottom';
        const outs = `${score.outs} out${score.outs === 1 ? '' : 's'}`;
        return `${half} of the ${ordinal(score.inning)}, ${outs}, ${runnersText(score.bases)}`;
    }

    function isScore(score) {
        return score && Array.isArray(score.teams) && score.teams.length === 2 &&
            score.teams.every((t) => typeof t.name === 'string' && Array.isArray(t.runs)) &&
            Number.isInteger(score.inning) && Array.isArray(score.bases);
    }

    function cell(tag, text, className) {
        const element = document.createElement(tag);
        element.textContent = text;
        if (className) element.className = className;
        return element;
    }

    function headerCell(text, title) {
        const th = document.createElement('th');
        th.scope = 'col';
        if (title) {
            const abbr = cell('abbr', text);
            abbr.title = title;
            th.append(abbr);
        } else {
            th.textContent = text;
        }
        return th;
    }

    // Replaces a cell's text, marking it so that CSS can flash what changed.
    function setCell(element, text) {
        if (element.textContent === text) return;
        const hadText = element.textContent !== '';
        element.textContent = text;
        if (hadText) {
            element.classList.remove('changed');
            void element.offsetWidth;  // restart the animation
            element.classList.add('changed');
        }
    }

    function renderTable(score) {
        const table = $('scoreboard');
        const live = score.status !== 'final';
        const innings = Math.max(REGULATION_INNINGS, ...score.teams.map((t) => t.runs.length));

        const head = $('innings');
        if (head.children.length !== innings + 4) {
            head.replaceChildren(headerCell('School'));
            for (let i = 1; i <= innings; ++i) head.append(headerCell(String(i)));
            head.append(headerCell('R', 'Runs'), headerCell('H', 'Hits'),
                        headerCell('E', 'Errors'));
        }

        const body = $('teams');
        score.teams.forEach((team, side) => {
            let row = body.children[side];
            if (!row || row.children.length !== innings + 4) {
                row = document.createElement('tr');
                const name = cell('th', '');
                name.scope = 'row';
                row.append(name);
                for (let i = 0; i < innings; ++i) row.append(cell('td', '', 'inning'));
                row.append(cell('td', '', 'total'), cell('td', '', 'hits'),
                           cell('td', '', 'errors'));
                row.children[innings + 1].id = `total-${side}`;
                row.children[innings + 2].id = `hits-${side}`;
                row.children[innings + 3].id = `errors-${side}`;
                if (body.children[side]) body.replaceChild(row, body.children[side]);
                else body.append(row);
            }
            row.children[0].textContent = team.name;
            for (let i = 0; i < innings; ++i) {
                const td = row.children[i + 1];
                let text = '';
                if (i < team.runs.length) text = String(team.runs[i]);
                // The home side did not need its last turn at bat: scoreboards show an x.
                else if (!live && side === 1 && i === score.inning - 1) text = 'x';
                setCell(td, text);
                const batting = live && i === score.inning - 1 &&
                    (side === 0) === (score.half === 'top');
                td.classList.toggle('current', batting);
            }
            setCell(row.children[innings + 1], String(team.total));
            setCell(row.children[innings + 2], String(team.hits));
            setCell(row.children[innings + 3], String(team.errors));
        });
        table.hidden = false;
    }

    function renderBases(score) {
        const bases = $('bases');
        ['first', 'second', 'third'].forEach((name, i) => {
            bases.querySelector(`.${name}`).classList.toggle('occupied', Boolean(score.bases[i]));
        });
        // Nobody is on base once the game is over.
        bases.hidden = score.status === 'final';
    }

    function render(score) {
        const [visitors, home] = score.teams;
        $('game').textContent = `${score.title || 'Koshien final'}, game ${score.game}: ` +
            `${visitors.name} at ${home.name}`;
        $('situation').textContent = situationText(score);
        $('play').textContent = score.play || '';
        renderTable(score);
        renderBases(score);
        document.title = `${visitors.name} ${visitors.total}-${home.total} ${home.name} | c10k`;
        document.body.dataset.seq = String(score.seq);
    }

    // Takes one message's text: renders it when it is a new, well-formed score.
    function show(text) {
        if (text === lastText) return;
        let score;
        try {
            score = JSON.parse(text);
        } catch (error) {
            console.warn('not a score:', text);
            return;
        }
        if (!isScore(score)) {
            console.warn('not a score:', text);
            return;
        }
        lastText = text;
        render(score);
        const now = new Date();
        updated.textContent = `updated ${now.toLocaleTimeString()}`;
        updated.dateTime = now.toISOString();
    }

    function setStatus(text, state) {
        if (connection.textContent !== text) connection.textContent = text;
        document.body.dataset.connection = state;
    }

    // ---- transports ---------------------------------------------------------------------

    const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    // 1 s, 2 s, 4 s ... up to 15 s, with jitter so that many pages do not retry in step
    // after a server restart.
    const backoff = (failures) =>
        Math.min(15000, 1000 * 2 ** Math.min(failures, 4)) * (0.75 + Math.random() / 2);

    function startWebSocket() {
        if (typeof WebSocket !== 'function') {
            startEventSource();
            return;
        }
        let opened = false;
        let failures = 0;

        const open = (resumeId) => {
            const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
            const query = resumeId ? `?last_event_id=${encodeURIComponent(resumeId)}` : '';
            const socket = new WebSocket(`${scheme}//${location.host}${CHANNEL_URL}${query}`);
            let restarted = false;
            socket.onopen = () => {
                opened = true;
                failures = 0;
                setStatus('live: WebSocket', 'websocket');
            };
            socket.onmessage = (event) => {
                let message;
                try {
                    message = JSON.parse(event.data);
                } catch (error) {
                    console.warn('not a push message:', event.data);
                    return;
                }
                if (message.event === 'history-lost' || message.event === 'unsubscribed') {
                    // What we missed is gone (or the channel was closed): start over without an
                    // id; a new subscriber gets the current score at once.
                    restarted = true;
                    lastId = null;
                    socket.close(1000);
                    setTimeout(() => open(null), message.event === 'unsubscribed' ? backoff(0) : 0);
                    return;
                }
                if (message.event === 'subscribed' || message.error) return;
                if (message.id) lastId = message.id;
                setStatus('live: WebSocket', 'websocket');
                show(message.data);
            };
            socket.onclose = () => {
                if (restarted) return;
                ++failures;
                if (!opened && failures >= WEBSOCKET_ATTEMPTS) {
                    startEventSource();
                    return;
                }
                setStatus('reconnecting…', 'reconnecting');
                setTimeout(() => open(lastId), backoff(failures));
            };
        };
        setStatus('connecting…', 'connecting');
        open(null);
    }

    function startEventSource() {
        if (typeof EventSource !== 'function') {
            startLongPoll();
            return;
        }
        let opened = false;
        let failures = 0;
        let source = null;

        const open = (resumeId) => {
            // A fresh EventSource sends no Last-Event-ID; resume through the query instead
            // when we reopen one ourselves.
            const url = resumeId ? `${CHANNEL_URL}?last_event_id=${encodeURIComponent(resumeId)}`
                                 : CHANNEL_URL;
            source = new EventSource(url);
            source.onopen = () => {
                opened = true;
                failures = 0;
                setStatus('live: EventSource', 'eventsource');
            };
            source.onmessage = (event) => {
                if (event.lastEventId) lastId = event.lastEventId;
                setStatus('live: EventSource', 'eventsource');
                show(event.data);
            };
            source.addEventListener('history-lost', () => {
                // What we missed is gone from the server's history: start over without an id;
                // the server hands a new subscriber the current score at once.
                source.close();
                lastId = null;
                open(null);
            });
            source.onerror = () => {
                ++failures;
                if (!opened && failures >= EVENTSOURCE_ATTEMPTS) {
                    source.close();
                    startLongPoll();
                    return;
                }
                setStatus('reconnecting…', 'reconnecting');
                // CONNECTING: the browser retries by itself, with Last-Event-ID. CLOSED: it
                // gave up (an HTTP error, a wrong content type), so we retry.
                if (source.readyState === EventSource.CLOSED) {
                    setTimeout(() => open(lastId), backoff(failures));
                }
            };
        };
        setStatus('connecting…', 'connecting');
        open(null);
    }

    function etagId(etag) {
        if (!etag) return null;
        return etag.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
    }

    async function startLongPoll() {
        setStatus('connecting… (long-poll)', 'connecting');
        let failures = 0;
        let answered = false;
        for (;;) {
            let response;
            const started = Date.now();
            const abandon = new AbortController();
            const timer = setTimeout(() => abandon.abort(), LONG_POLL_ABANDON_MS);
            try {
                const headers = lastId !== null ? {'Last-Event-ID': lastId} : {};
                response = await fetch(CHANNEL_URL,
                                       {headers, cache: 'no-store', signal: abandon.signal});
            } catch (error) {
                clearTimeout(timer);
                setStatus('reconnecting…', 'reconnecting');
                await sleep(backoff(++failures));
                continue;
            }
            clearTimeout(timer);
            if (response.status === 200) {
                let text;
                try {
                    text = await response.text();
                } catch (error) {
                    // The connection broke mid-body: ask again with the same id.
                    setStatus('reconnecting…', 'reconnecting');
                    await sleep(backoff(++failures));
                    continue;
                }
                lastId = etagId(response.headers.get('ETag')) || lastId;
                failures = 0;
                answered = true;
                setStatus('live: long-poll', 'long-poll');
                show(text);
            } else if (response.status === 304) {
                // The wait ran out with nothing new: ask again with the same id (not in a
                // tight loop, should a server answer 304 at once).
                failures = 0;
                answered = true;
                setStatus('live: long-poll', 'long-poll');
                if (Date.now() - started < 1000) await sleep(1000);
            } else if (response.status === 404 && !answered) {
                // This server has no live channel (a plain `c10k serve`): do as 2007 did.
                startReload('no live channel here');
                return;
            } else {
                setStatus('reconnecting…', 'reconnecting');
                await sleep(backoff(++failures));
            }
        }
    }

    function startReload(reason) {
        setStatus(`reload: score.json every ${RELOAD_INTERVAL_MS / 1000} s` +
                  (reason ? ` (${reason})` : ''), 'reload');
        const reload = async () => {
            try {
                // no-cache: revalidate every time (If-None-Match, mostly 304s), which is what
                // the 2007 readers' reloads cost the server.
                const response = await fetch(SCORE_FILE, {cache: 'no-cache'});
                if (response.ok) show(await response.text());
            } catch (error) {
                // The next reload tries again.
            }
        };
        reload();
        setInterval(reload, RELOAD_INTERVAL_MS);
    }

    const forced = new URLSearchParams(location.search).get('transport') ||
        document.body.dataset.transport;
    if (forced === 'reload') startReload('');
    else if (forced === 'long-poll') startLongPoll();
    else if (forced === 'eventsource') startEventSource();
    else startWebSocket();
})();
