// The page of a verification link: the server has verified (or refused) it; show the header as usual.
import { boot } from "../app.js";

boot();
