// replay: the C++ anchor of tandem's physics benchmark.
//
// It loads a world written by `tandem bench --task T --dump-world FILE`
// (bodies, fixtures, joints, initial state, and what the task did before
// every physics substep of a recorded expert episode) into Box2D 2.4.1
// (Debian's libbox2d-dev), steps the same episode again and again for about
// the requested time, and prints the time spent in b2World::Step per
// substep. Build and run it through bench/box2d/run.
//
// Usage: replay FILE [SECONDS]
// Output (one line): task substeps_per_episode episodes us_per_substep
//
// What differs from tandem's engine (ByteArena/box2d v1.0.2, a Go port of
// Box2D 2.3) is listed in docs/benchmarks.md; this program keeps the world,
// the inputs and the solver settings the same.

#include <box2d/box2d.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// ---------------------------------------------------------------- JSON

struct Json {
	enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
	bool b = false;
	double n = 0;
	std::string s;
	std::vector<Json> a;
	std::map<std::string, Json> o;

	const Json& operator[](const std::string& k) const {
		static const Json none;
		auto it = o.find(k);
		return it == o.end() ? none : it->second;
	}
	const Json& operator[](size_t i) const { return a.at(i); }
	size_t size() const { return a.size(); }
	double num() const { return n; }
	float f() const { return float(n); }
	int i() const { return int(n); }
	bool on() const { return b; }
	bool has(const std::string& k) const { return o.count(k) > 0; }
	b2Vec2 vec() const { return kind == Array && a.size() == 2 ? b2Vec2(a[0].f(), a[1].f()) : b2Vec2(0, 0); }
};

struct Parser {
	const char* p;
	const char* end;

	void ws() {
		while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
	}
	[[noreturn]] void fail(const char* what) {
		throw std::runtime_error(std::string("bad JSON: ") + what);
	}
	Json value() {
		ws();
		if (p >= end) fail("unexpected end");
		Json v;
		switch (*p) {
		case '{':
			v.kind = Json::Object;
			p++;
			ws();
			if (*p == '}') { p++; return v; }
			for (;;) {
				ws();
				std::string k = str();
				ws();
				if (*p++ != ':') fail("expected ':'");
				v.o.emplace(std::move(k), value());
				ws();
				if (*p == ',') { p++; continue; }
				if (*p++ != '}') fail("expected '}'");
				return v;
			}
		case '[':
			v.kind = Json::Array;
			p++;
			ws();
			if (*p == ']') { p++; return v; }
			for (;;) {
				v.a.push_back(value());
				ws();
				if (*p == ',') { p++; continue; }
				if (*p++ != ']') fail("expected ']'");
				return v;
			}
		case '"':
			v.kind = Json::String;
			v.s = str();
			return v;
		case 't':
			v.kind = Json::Bool, v.b = true, p += 4;
			return v;
		case 'f':
			v.kind = Json::Bool, v.b = false, p += 5;
			return v;
		case 'n':
			p += 4;
			return v;
		default: {
			char* q;
			v.kind = Json::Number;
			v.n = std::strtod(p, &q);
			if (q == p) fail("expected a value");
			p = q;
			return v;
		}
		}
	}
	std::string str() {
		if (*p++ != '"') fail("expected a string");
		std::string out;
		while (p < end && *p != '"') {
			if (*p == '\\') p++; // names in the dump need no escapes beyond this
			out += *p++;
		}
		p++;
		return out;
	}
};

// ---------------------------------------------------------------- world

// acceptAll is ByteArena/box2d's behaviour with no contact filter: fixture
// filter bits are never consulted.
struct AcceptAll : b2ContactFilter {
	bool ShouldCollide(b2Fixture*, b2Fixture*) override { return true; }
};

// Gate disables, during one substep, the contacts between the body pairs
// the task's own contact listener disabled in the recorded episode.
struct Gate : b2ContactListener {
	std::set<std::pair<b2Body*, b2Body*>> pairs;
	void PreSolve(b2Contact* c, const b2Manifold*) override {
		if (pairs.empty()) return;
		b2Body* a = c->GetFixtureA()->GetBody();
		b2Body* b = c->GetFixtureB()->GetBody();
		if (pairs.count({a, b}) || pairs.count({b, a})) c->SetEnabled(false);
	}
};

struct Replay {
	const Json& d;
	std::unique_ptr<b2World> world;
	std::vector<b2Body*> bodies;
	std::map<int, b2Joint*> joints;
	AcceptAll filter;
	Gate gate;

	explicit Replay(const Json& dump) : d(dump) {}

	void build() {
		joints.clear();
		bodies.clear();
		world = std::make_unique<b2World>(d["gravity"].vec());
		world->SetAllowSleeping(d["allow_sleep"].on());
		world->SetWarmStarting(d["warm_starting"].on());
		world->SetContinuousPhysics(d["continuous"].on());
		world->SetSubStepping(d["sub_stepping"].on());
		if (!d["contact_filter"].on()) world->SetContactFilter(&filter);
		world->SetContactListener(&gate);
		const Json& bs = d["bodies"];
		for (size_t i = 0; i < bs.size(); i++) bodies.push_back(body(bs[i]));
		const Json& js = d["joints"];
		for (size_t i = 0; i < js.size(); i++) joint(js[i]);
	}

	b2Body* body(const Json& j) {
		b2BodyDef bd;
		const std::string& t = j["type"].s;
		bd.type = t == "dynamic" ? b2_dynamicBody : t == "kinematic" ? b2_kinematicBody : b2_staticBody;
		bd.position = j["p"].vec();
		bd.angle = j["a"].f();
		bd.linearVelocity = j["v"].vec();
		bd.angularVelocity = j["w"].f();
		bd.linearDamping = j["linear_damping"].f();
		bd.angularDamping = j["angular_damping"].f();
		bd.gravityScale = j["gravity_scale"].f();
		bd.fixedRotation = j["fixed_rotation"].on();
		bd.bullet = j["bullet"].on();
		bd.awake = j["awake"].on();
		bd.allowSleep = j["allow_sleep"].on();
		b2Body* b = world->CreateBody(&bd);
		const Json& fs = j["fixtures"];
		for (size_t i = 0; i < fs.size(); i++) fixture(b, fs[i]);
		if (bd.type == b2_dynamicBody) {
			b2MassData m;
			m.mass = j["mass"].f();
			m.center = j["center"].vec();
			m.I = float(j["inertia"].num() + j["mass"].num() * (j["center"][0].num() * j["center"][0].num() + j["center"][1].num() * j["center"][1].num()));
			b->SetMassData(&m);
		}
		return b;
	}

	void fixture(b2Body* b, const Json& j) {
		b2FixtureDef fd;
		fd.density = j["density"].f();
		fd.friction = j["friction"].f();
		fd.restitution = j["restitution"].f();
		fd.isSensor = j["sensor"].on();
		fd.filter.categoryBits = uint16(j["filter"][0].i());
		fd.filter.maskBits = uint16(j["filter"][1].i());
		fd.filter.groupIndex = int16(j["filter"][2].i());
		const std::string& shape = j["shape"].s;
		const Json& vs = j["vertices"];
		if (shape == "circle") {
			b2CircleShape c;
			c.m_radius = j["radius"].f();
			c.m_p = j["center"].vec();
			fd.shape = &c;
			b->CreateFixture(&fd);
		} else if (shape == "polygon") {
			b2PolygonShape p;
			p.m_count = int32(vs.size());
			for (size_t i = 0; i < vs.size(); i++) {
				p.m_vertices[i] = vs[i].vec();
				p.m_normals[i] = j["normals"][i].vec();
			}
			p.m_centroid = j["centroid"].vec();
			p.m_radius = j["radius"].f();
			fd.shape = &p;
			b->CreateFixture(&fd);
		} else if (shape == "edge") {
			b2EdgeShape e;
			if (j["has_ghost"][0].on() && j["has_ghost"][1].on())
				e.SetOneSided(j["ghost"][0].vec(), vs[0].vec(), vs[1].vec(), j["ghost"][1].vec());
			else
				e.SetTwoSided(vs[0].vec(), vs[1].vec());
			fd.shape = &e;
			b->CreateFixture(&fd);
		} else if (shape == "chain") {
			std::vector<b2Vec2> v;
			for (size_t i = 0; i < vs.size(); i++) v.push_back(vs[i].vec());
			b2ChainShape c;
			b2Vec2 prev = j["ghost"][0].vec(), next = j["ghost"][1].vec();
			if (!j["has_ghost"][0].on()) prev = v[0] + (v[0] - v[1]);
			if (!j["has_ghost"][1].on()) next = v.back() + (v.back() - v[v.size() - 2]);
			c.CreateChain(v.data(), int32(v.size()), prev, next);
			fd.shape = &c;
			b->CreateFixture(&fd);
		} else {
			throw std::runtime_error("unknown shape " + shape);
		}
	}

	void joint(const Json& j) {
		b2Body* a = bodies.at(j["a"].i());
		b2Body* b = bodies.at(j["b"].i());
		const std::string& t = j["type"].s;
		b2Joint* out = nullptr;
		if (t == "weld") {
			b2WeldJointDef d;
			d.bodyA = a, d.bodyB = b, d.collideConnected = j["collide_connected"].on();
			d.localAnchorA = j["anchor_a"].vec(), d.localAnchorB = j["anchor_b"].vec();
			d.referenceAngle = j["reference_angle"].f();
			b2AngularStiffness(d.stiffness, d.damping, j["frequency_hz"].f(), j["damping_ratio"].f(), a, b);
			out = world->CreateJoint(&d);
		} else if (t == "distance") {
			b2DistanceJointDef d;
			d.bodyA = a, d.bodyB = b, d.collideConnected = j["collide_connected"].on();
			d.localAnchorA = j["anchor_a"].vec(), d.localAnchorB = j["anchor_b"].vec();
			d.length = j["length"].f();
			if (j["frequency_hz"].num() > 0) {
				// Box2D 2.3's soft distance joint is a spring toward the
				// rest length without limits.
				d.minLength = 0, d.maxLength = FLT_MAX;
				b2LinearStiffness(d.stiffness, d.damping, j["frequency_hz"].f(), j["damping_ratio"].f(), a, b);
			} else {
				d.minLength = d.maxLength = d.length;
			}
			out = world->CreateJoint(&d);
		} else if (t == "revolute") {
			b2RevoluteJointDef d;
			d.bodyA = a, d.bodyB = b, d.collideConnected = j["collide_connected"].on();
			d.localAnchorA = j["anchor_a"].vec(), d.localAnchorB = j["anchor_b"].vec();
			d.referenceAngle = j["reference_angle"].f();
			d.enableLimit = j["enable_limit"].on(), d.lowerAngle = j["lower"].f(), d.upperAngle = j["upper"].f();
			d.enableMotor = j["enable_motor"].on(), d.maxMotorTorque = j["max_motor"].f(), d.motorSpeed = j["motor_speed"].f();
			out = world->CreateJoint(&d);
		} else if (t == "prismatic") {
			b2PrismaticJointDef d;
			d.bodyA = a, d.bodyB = b, d.collideConnected = j["collide_connected"].on();
			d.localAnchorA = j["anchor_a"].vec(), d.localAnchorB = j["anchor_b"].vec();
			d.localAxisA = j["axis"].vec();
			d.referenceAngle = j["reference_angle"].f();
			d.enableLimit = j["enable_limit"].on(), d.lowerTranslation = j["lower"].f(), d.upperTranslation = j["upper"].f();
			d.enableMotor = j["enable_motor"].on(), d.maxMotorForce = j["max_motor"].f(), d.motorSpeed = j["motor_speed"].f();
			out = world->CreateJoint(&d);
		} else {
			throw std::runtime_error("unknown joint " + t);
		}
		joints[j["id"].i()] = out;
	}

	// apply sets what the task set before substep k.
	void apply(const Json& in) {
		const Json& bs = in["bodies"];
		for (size_t i = 0; i < bs.size(); i++) {
			const Json& x = bs[i];
			b2Body* b = bodies.at(x["i"].i());
			if (x.has("p")) b->SetTransform(x["p"].vec(), x["a"].f());
			b->SetLinearVelocity(x["v"].vec());
			b->SetAngularVelocity(x["w"].f());
		}
		const Json& fs = in["forces"];
		for (size_t i = 0; i < fs.size(); i++) {
			b2Body* b = bodies.at(fs[i]["i"].i());
			b->ApplyForceToCenter(fs[i]["f"].vec(), true);
			b->ApplyTorque(fs[i]["t"].f(), true);
		}
		const Json& ms = in["motors"];
		for (size_t i = 0; i < ms.size(); i++) {
			b2Joint* j = joints.at(ms[i]["j"].i());
			float s = ms[i]["speed"].f();
			if (j->GetType() == e_revoluteJoint) static_cast<b2RevoluteJoint*>(j)->SetMotorSpeed(s);
			if (j->GetType() == e_prismaticJoint) static_cast<b2PrismaticJoint*>(j)->SetMotorSpeed(s);
		}
		const Json& ds = in["destroy"];
		for (size_t i = 0; i < ds.size(); i++) {
			world->DestroyJoint(joints.at(ds[i].i()));
			joints.erase(ds[i].i());
		}
		const Json& cs = in["create"];
		for (size_t i = 0; i < cs.size(); i++) joint(cs[i]);
		gate.pairs.clear();
		const Json& dis = in["disabled"];
		for (size_t i = 0; i < dis.size(); i++)
			gate.pairs.insert({bodies.at(dis[i][0].i()), bodies.at(dis[i][1].i())});
	}
};

int main(int argc, char** argv) {
	if (argc < 2) {
		std::fprintf(stderr, "usage: replay FILE [SECONDS]\n");
		return 2;
	}
	double seconds = argc > 2 ? std::atof(argv[2]) : 1.0;
	std::ifstream f(argv[1], std::ios::binary);
	if (!f) {
		std::fprintf(stderr, "replay: cannot open %s\n", argv[1]);
		return 1;
	}
	std::stringstream ss;
	ss << f.rdbuf();
	std::string text = ss.str();
	try {
		Parser p{text.data(), text.data() + text.size()};
		Json dump = p.value();
		Replay r(dump);
		const Json& steps = dump["steps"];
		float dt = dump["dt"].f();
		int vi = dump["velocity_iterations"].i(), pi = dump["position_iterations"].i();

		using clock = std::chrono::steady_clock;
		clock::duration inStep{};
		long substeps = 0, episodes = 0;
		auto start = clock::now();
		while (episodes == 0 || clock::now() - start < std::chrono::duration<double>(seconds)) {
			r.build();
			for (size_t k = 0; k < steps.size(); k++) {
				r.apply(steps[k]);
				auto t0 = clock::now();
				r.world->Step(dt, vi, pi);
				inStep += clock::now() - t0;
			}
			substeps += long(steps.size());
			episodes++;
		}
		double us = std::chrono::duration<double, std::micro>(inStep).count() / double(substeps);
		std::printf("%s %zu %ld %.3f\n", dump["task"].s.c_str(), steps.size(), episodes, us);
	} catch (const std::exception& e) {
		std::fprintf(stderr, "replay: %s\n", e.what());
		return 1;
	}
	return 0;
}
