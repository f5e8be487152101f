export { default as orders } from "../functions/orders/service";
