"""A team's locustfile written the plain Locust way (not gameday's users): it knows nothing of tokens; gameday's
``--service-headers`` gives its client the environment's service headers."""

from locust import FastHttpUser, constant, task


class Orders(FastHttpUser):
    wait_time = constant(0.02)

    @task
    def place(self) -> None:
        self.client.post("/orders", data='{"item":"book"}', headers={"Content-Type": "application/json"})
