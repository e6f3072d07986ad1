import { describe, expect, it } from "vitest";
import { Hold } from "./hold.js";

describe("the page's hold between calls to the worker", () => {
  it("lets calls go until cancelled, then stops the next one with the worker's own message", async () => {
    const hold = new Hold();
    await expect(hold.between()).resolves.toBeUndefined();
    hold.cancel();
    await expect(hold.between()).rejects.toThrow("run cancelled");
    hold.reset();
    await expect(hold.between()).resolves.toBeUndefined();
  });

  it("holds the next call while paused, until resumed, or cancelled (then it stops)", async () => {
    const hold = new Hold();
    const order: string[] = [];
    hold.pause();
    const first = hold.between().then(() => order.push("went"));
    await new Promise((resolve) => setTimeout(resolve, 0)); // every promise that could settle has
    expect(order).toEqual([]);
    order.push("resume");
    hold.resume();
    await first;
    expect(order).toEqual(["resume", "went"]);

    hold.pause();
    const second = hold.between();
    hold.cancel();
    await expect(second).rejects.toThrow("run cancelled");
  });
});
