package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"tandem/foxglove"
	"tandem/sim"
)

// foxSubprotocol is the Foxglove WebSocket protocol's subprotocol.
const foxSubprotocol = "foxglove.websocket.v1"

// foxQueue bounds each Foxglove client's queue; the oldest message goes
// when it is full, as for session clients.
const foxQueue = 256

// foxChannel is one advertised channel.
type foxChannel struct {
	ID             uint32 `json:"id"`
	Topic          string `json:"topic"`
	Encoding       string `json:"encoding"`
	SchemaName     string `json:"schemaName"`
	Schema         string `json:"schema"`
	SchemaEncoding string `json:"schemaEncoding"`

	sess *view
	kind string // scene, state, action, events
}

// foxHub assigns channels to sessions and tracks Foxglove clients.
type foxHub struct {
	srv *Server

	mu       sync.Mutex // guards everything below
	nextID   uint32
	channels map[string][]*foxChannel // by session id
	clients  map[*foxClient]struct{}
	closed   bool // set by close: a client that arrives later is sent away
}

func newFoxHub(srv *Server) *foxHub {
	return &foxHub{srv: srv, channels: map[string][]*foxChannel{}, clients: map[*foxClient]struct{}{}}
}

func (h *foxHub) sessionAdded(sess *view) {
	h.mu.Lock()
	var chs []*foxChannel
	for _, kind := range []string{"scene", "state", "action", "events"} {
		h.nextID++
		ch := &foxChannel{ID: h.nextID, Topic: "/" + sess.id + "/" + kind, Encoding: "json", SchemaEncoding: "jsonschema", sess: sess, kind: kind}
		switch kind {
		case "scene":
			ch.SchemaName, ch.Schema = foxglove.SchemaName, foxglove.SceneUpdateSchema()
		case "state":
			ch.SchemaName, ch.Schema = "tandem.State", stateSchema(&sess.spec)
		case "action":
			ch.SchemaName, ch.Schema = "tandem.Action", actionSchema(&sess.spec)
		case "events":
			ch.SchemaName, ch.Schema = "tandem.Events", eventsSchema
		}
		chs = append(chs, ch)
	}
	h.channels[sess.id] = chs
	clients := h.clientList()
	h.mu.Unlock()
	for _, c := range clients {
		c.advertise(chs)
	}
}

func (h *foxHub) sessionGone(sess *view) {
	h.mu.Lock()
	chs := h.channels[sess.id]
	delete(h.channels, sess.id)
	clients := h.clientList()
	h.mu.Unlock()
	if len(chs) == 0 {
		return
	}
	for _, c := range clients {
		c.unadvertise(chs)
	}
}

func (h *foxHub) clientList() []*foxClient {
	out := make([]*foxClient, 0, len(h.clients))
	for c := range h.clients {
		out = append(out, c)
	}
	return out
}

func (h *foxHub) close() {
	h.mu.Lock()
	h.closed = true
	clients := h.clientList()
	h.mu.Unlock()
	for _, c := range clients {
		c.kick(websocket.CloseGoingAway, "server shutting down")
	}
}

// foxClient is one Foxglove connection. Its handler goroutine reads, its
// writer goroutine writes, and one pump goroutine per subscribed session
// turns records into messages.
type foxClient struct {
	hub    *foxHub
	conn   *websocket.Conn
	filter string // only this session, if set

	*sendQueue // outgoing messages: the one queue type of every client

	mu    sync.Mutex             // guards subs, chans, pumps
	subs  map[uint32]*foxChannel // subscription id → channel
	chans map[uint32]*foxChannel // advertised channels by id
	pumps map[string]*sim.Subscription
	done  chan struct{}
}

func (s *Server) handleFoxglove(c echo.Context) error {
	r := c.Request()
	if _, herr := s.role(r); herr != nil {
		return herr
	}
	if !slices.Contains(websocket.Subprotocols(r), foxSubprotocol) {
		return echo.NewHTTPError(http.StatusBadRequest, "the Foxglove endpoint needs subprotocol "+foxSubprotocol)
	}
	filter := c.QueryParam("session")
	if filter != "" {
		if _, err := s.session(filter); err != nil {
			return err
		}
	}
	if !s.enter(&s.clientsWG) {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "server is shutting down")
	}
	defer s.clientsWG.Done()
	up := s.upgrader
	up.Subprotocols = []string{foxSubprotocol}
	conn, err := up.Upgrade(c.Response(), r, nil)
	if err != nil {
		return nil
	}
	fc := &foxClient{hub: s.fox, conn: conn, filter: filter, subs: map[uint32]*foxChannel{}, chans: map[uint32]*foxChannel{},
		pumps: map[string]*sim.Subscription{}, done: make(chan struct{}), sendQueue: newSendQueue(foxQueue, 0)}
	fc.onKick = func() { time.AfterFunc(defaultWriteWait+closeGrace, func() { conn.Close() }) }
	s.metrics.clients.WithLabelValues("foxglove").Inc()
	defer s.metrics.clients.WithLabelValues("foxglove").Dec()

	info, _ := json.Marshal(map[string]any{
		"op": "serverInfo", "name": "tandem", "capabilities": []string{}, "supportedEncodings": []string{"json"},
		"metadata": map[string]string{"units": "scene in metres (frame world); state and action in task units (see each session's spec)"}, "sessionId": strconv.FormatInt(time.Now().UnixNano(), 36),
	})
	fc.enqueue(outMsg{b: info})
	s.fox.mu.Lock()
	closed := s.fox.closed
	if !closed {
		s.fox.clients[fc] = struct{}{}
	}
	var chs []*foxChannel
	for _, c := range s.fox.channels {
		chs = append(chs, c...)
	}
	s.fox.mu.Unlock()
	if closed { // upgraded while the server began to shut down
		fc.kick(websocket.CloseGoingAway, "server shutting down")
	}
	// Channel ids grow with each session: the order sessions came in.
	slices.SortFunc(chs, func(a, b *foxChannel) int { return cmp.Compare(a.ID, b.ID) })
	fc.advertise(chs)

	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		fc.writeLoop(conn, fc.done, s.cfg.PingInterval, func(m outMsg) error { return writeMsg(conn, m) })
	}()
	fc.readLoop()
	s.fox.mu.Lock()
	delete(s.fox.clients, fc)
	s.fox.mu.Unlock()
	fc.mu.Lock()
	for _, sub := range fc.pumps {
		sub.Close()
	}
	fc.pumps = map[string]*sim.Subscription{}
	fc.mu.Unlock()
	close(fc.done)
	<-wdone
	conn.Close()
	return nil
}

func (fc *foxClient) advertise(chs []*foxChannel) {
	var list []*foxChannel
	fc.mu.Lock()
	for _, ch := range chs {
		if fc.filter != "" && ch.sess.id != fc.filter {
			continue
		}
		fc.chans[ch.ID] = ch
		list = append(list, ch)
	}
	fc.mu.Unlock()
	if len(list) == 0 {
		return
	}
	b, _ := json.Marshal(map[string]any{"op": "advertise", "channels": list})
	fc.enqueue(outMsg{b: b})
}

func (fc *foxClient) unadvertise(chs []*foxChannel) {
	var ids []uint32
	fc.mu.Lock()
	for _, ch := range chs {
		if _, ok := fc.chans[ch.ID]; !ok {
			continue
		}
		delete(fc.chans, ch.ID)
		ids = append(ids, ch.ID)
		for sid, sc := range fc.subs {
			if sc == ch {
				delete(fc.subs, sid)
			}
		}
	}
	fc.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	b, _ := json.Marshal(map[string]any{"op": "unadvertise", "channelIds": ids})
	fc.enqueue(outMsg{b: b})
}

func (fc *foxClient) status(level int, msg string) {
	b, _ := json.Marshal(map[string]any{"op": "status", "level": level, "message": msg})
	fc.enqueue(outMsg{b: b})
}

// enqueue queues m: a full queue drops its oldest data message (control
// messages are kept), as for session clients.
func (fc *foxClient) enqueue(m outMsg) { fc.push(m, time.Time{}) }

// foxIn is a client operation.
type foxIn struct {
	Op            string `json:"op"`
	Subscriptions []struct {
		ID        uint32 `json:"id"`
		ChannelID uint32 `json:"channelId"`
	} `json:"subscriptions"`
	SubscriptionIDs []uint32 `json:"subscriptionIds"`
}

// readLoop reads client operations until the connection fails. A client
// that sends nothing and answers no ping for PongWait is dropped (4001),
// so idle Foxglove connections do not pile up.
func (fc *foxClient) readLoop() {
	srv := fc.hub.srv
	conn := fc.conn
	conn.SetReadLimit(int64(srv.cfg.MaxMessage))
	wait := srv.cfg.PongWait
	conn.SetReadDeadline(time.Now().Add(wait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(wait)) })
	for {
		typ, b, err := conn.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				fc.kick(closePingTimeout, "ping timeout")
			}
			return
		}
		conn.SetReadDeadline(time.Now().Add(wait))
		fc.handle(typ, b)
	}
}

// handle answers one client operation: subscriptions within MaxFoxSubs,
// unsubscriptions, and a status for anything else.
func (fc *foxClient) handle(typ int, b []byte) {
	srv := fc.hub.srv
	if typ != websocket.TextMessage {
		srv.metrics.rejected.WithLabelValues(codeForbidden).Inc()
		fc.status(2, "this server does not accept client-published messages")
		return
	}
	var m foxIn
	if err := json.Unmarshal(b, &m); err != nil {
		srv.metrics.rejected.WithLabelValues(codeBadJSON).Inc()
		fc.status(2, "bad message: "+truncate(err.Error(), 120))
		return
	}
	switch m.Op {
	case "subscribe":
		refused := 0
		for _, s := range m.Subscriptions {
			if !fc.subscribe(s.ID, s.ChannelID) {
				refused++
			}
		}
		if refused > 0 {
			fc.status(2, fmt.Sprintf("%d subscriptions refused: a connection holds at most %d, the limit", refused, srv.cfg.MaxFoxSubs))
		}
	case "unsubscribe":
		for _, id := range m.SubscriptionIDs {
			fc.unsubscribe(id)
		}
	default:
		srv.metrics.rejected.WithLabelValues(codeBadType).Inc()
		fc.status(1, fmt.Sprintf("unsupported op %q", truncate(m.Op, 32)))
	}
}
