// The record filters' UI strings (zh-CN, en): registered when a designer that uses them loads.
import { addStrings } from "../../i18n";

addStrings({
  "design.filter.add": ["添加筛选条件", "Add a filter"],
  "design.filter.field": ["字段", "Field"],
  "design.filter.op": ["比较", "Operator"],
  "design.filter.value": ["值", "Value"],
  "design.filter.remove": ["删除条件", "Remove the filter"],
  "design.filter.limit": ["最新的", "The newest"],
  "design.filter.limit.n": ["{n} 条", "{n}"],
  "design.filter.empty.yes": ["为空", "is empty"],
  "design.filter.empty.no": ["不为空", "is set"],
  "design.filter.op.eq": ["等于", "equals"],
  "design.filter.op.ne": ["不等于", "is not"],
  "design.filter.op.in": ["属于", "one of"],
  "design.filter.op.gt": ["大于", ">"],
  "design.filter.op.gte": ["大于等于", "≥"],
  "design.filter.op.lt": ["小于", "<"],
  "design.filter.op.lte": ["小于等于", "≤"],
  "design.filter.op.contains": ["包含", "contains"],
  "design.filter.op.empty": ["是否为空", "empty?"],
});
