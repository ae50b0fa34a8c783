def test_health(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_world_builds_a_listed_product(world, client):
    m = world.merchant()
    p = world.product(m)
    assert p["status"] == "listed"
    r = client.get(f"/api/v1/products/{p['id']}/card")
    assert r.status_code == 200, r.text
    assert r.json()["final_price"]["formatted"] == "¥39.00"
